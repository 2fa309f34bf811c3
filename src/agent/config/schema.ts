import { z } from 'zod';
import { exactlyOneOf, intRange, nonEmpty, secretKeyNames, secretKeys } from '../../shared/config/fields.js';
import { subnetProblem } from '../../shared/ipv4.js';
import { sourcesSettingsSchema } from '../../cve/sources/config.js';
import { isIanaZoneName } from '../../shared/schedule/time-zone.js';

const DAY_MS = 86_400_000;

/**
 * The one schema of config.yaml: validation, defaults and the TypeScript type come from it.
 * Each message says what was expected; the formatter adds the path and what was found.
 * `reloadable` lists the top-level keys a SIGHUP may change without a restart.
 */

export const cidrSchema = z.string({ error: 'expected IPv4 CIDR like 192.168.88.0/24' }).superRefine((value, ctx) => {
  const problem = subnetProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** A secret is given inline, in a file (e.g. a systemd credential) or in an environment variable: one of the three. */
/** OpenSSH's form (`ssh-keygen -lf`): `SHA256:` and 43 base64 characters; a trailing `=` is dropped. */
const sshFingerprintError = 'expected an SSH host key fingerprint like SHA256: and 43 base64 characters, as ssh-keygen -lf prints it';
const sshFingerprintSchema = z
  .string({ error: sshFingerprintError })
  .trim()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: sshFingerprintError })
  .transform((text) => text.replace(/=$/, ''));

/** OpenSSL's form (`openssl x509 -noout -fingerprint -sha256`), its `sha256 Fingerprint=` optional: kept as 32 upper-case hex pairs with colons. */
const tlsFingerprintError = 'expected a SHA-256 certificate fingerprint of 32 hex pairs like AB:CD:..., as openssl x509 -fingerprint -sha256 prints it';
const tlsFingerprintSchema = z
  .string({ error: tlsFingerprintError })
  .trim()
  .regex(/^(sha256 fingerprint=)?(([0-9A-F]{2}:){31}[0-9A-F]{2}|[0-9A-F]{64})$/i, { error: tlsFingerprintError })
  .transform((text) =>
    (
      text
        .replace(/^sha256 fingerprint=/i, '')
        .replace(/:/g, '')
        .toUpperCase()
        .match(/../g) ?? []
    ).join(':'),
  );

const transportDefaults = { api: 8728, 'api-ssl': 8729, ssh: 22 } as const;

export const routerSchema = z
  .strictObject({
    host: nonEmpty('a host name or IP address'),
    transport: z.enum(['api', 'api-ssl', 'ssh'], { error: 'expected one of api, api-ssl, ssh' }).default('api'),
    port: intRange(1, 65535).optional(),
    user: nonEmpty('a user name'),
    ...secretKeys('password', { allowEmptyInline: true }),
    tls: z
      .strictObject({
        ca_file: nonEmpty('a file path').optional(),
        reject_unauthorized: z.boolean({ error: 'expected true or false' }).default(true),
      })
      .optional(),
    // The router's identity, pinned: with none here, what it presents on first use is learned and kept in agent.db.
    ssh_host_key_fingerprint: sshFingerprintSchema.optional(),
    tls_fingerprint: tlsFingerprintSchema.optional(),
    ssh_fallback: z.boolean({ error: 'expected true or false' }).default(true),
    // The SSH port the fallback uses when transport is api or api-ssl (with transport ssh, `port` is the SSH port).
    ssh_port: intRange(1, 65535).default(22),
    timeout_seconds: intRange(1, 300).default(10),
  })
  .superRefine(exactlyOneOf(secretKeyNames('password'), false))
  // node-routeros keeps 8728 under TLS unless told otherwise: the default follows the transport.
  .transform((router) => ({ ...router, port: router.port ?? transportDefaults[router.transport] }));

export const controlPlaneSchema = z
  .strictObject({
    url: z.url({ protocol: /^wss?$/, error: 'expected a ws:// or wss:// URL' }),
    ...secretKeys('token'),
  })
  .superRefine(exactlyOneOf(secretKeyNames('token'), false));

const durationSchema = z
  .string({ error: 'expected a duration like 90m or 6h' })
  .regex(/^\d+(s|m|h|d)$/, { error: 'expected a duration like 90m or 6h' })
  .transform((text) => {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[text.slice(-1) as 's' | 'm' | 'h' | 'd'];
    return Number(text.slice(0, -1)) * unit * 1000;
  });

export const timezoneSchema = z
  .string({ error: 'expected an IANA time zone like Europe/London' })
  .refine(isIanaZoneName, { error: 'expected an IANA time zone like Europe/London' });

export const configSchema = z.strictObject({
  config_version: z.literal(1, { error: 'expected 1 (the only config version this agent knows)' }).default(1),
  site_id: z.uuid({ error: 'expected a UUID' }).optional(),
  state_dir: nonEmpty('a directory path').optional(),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { error: 'expected one of fatal, error, warn, info, debug, trace' }).default('info'),
  router: routerSchema.optional(),
  subnets: z.array(cidrSchema, { error: 'expected a list of IPv4 CIDRs' }).default([]),
  control_plane: controlPlaneSchema.optional(),
  scheduler: z
    .strictObject({
      missed_run_grace: durationSchema.default(6 * 3600 * 1000),
      timezone: timezoneSchema.default('UTC'),
    })
    .prefault({}),
  scan: z
    .strictObject({
      ports: z
        .string({ error: 'expected a port list like 22,80,8000-8100' })
        .regex(/^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/, { error: 'expected a port list like 22,80,8000-8100' })
        .optional(),
      udp: z.boolean({ error: 'expected true or false' }).default(true),
      snmp_community: nonEmpty('an SNMP community').default('public'),
      max_connections: intRange(1, 4096).default(256),
      connects_per_second: intRange(0, 100000).default(0),
      resume_within: durationSchema.default(6 * 3600 * 1000),
      // The polite scanner: the router's CPU load, read during a scan, slows the connect rate past a ceiling.
      router_load: z
        .strictObject({
          enabled: z.boolean({ error: 'expected true or false' }).default(true),
          ceiling_percent: intRange(1, 100).default(70),
          check_every: durationSchema.default(5000).refine((ms) => ms >= 1000 && ms <= 600_000, { error: 'expected a duration from 1s to 10m' }),
          min_connects_per_second: intRange(1, 100000).default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  feed: z
    .strictObject({
      // CVE data older than this is said in feed status, every report, the daemon's log and status line.
      max_age_days: intRange(1, 3650).optional(),
      // The same limit as a duration (`7d`, `36h`): the older key, kept so existing configs stay valid.
      stale_after: durationSchema.optional(),
      // true: a standalone agent (no control_plane) runs the sources below on their schedules. Off
      // by default: an agent reaches the internet only when its operator says so (and no test or
      // demo agent ever does); `feed status` and the stale warning say how to turn it on.
      self_update: z.boolean({ error: 'expected true or false' }).default(false),
      // At start, sources whose slots were missed run after this pause, so a booting box resumes its scans first.
      catch_up_after: durationSchema.default(60_000),
      sources: sourcesSettingsSchema,
    })
    .superRefine((feed, ctx) => {
      if (feed.max_age_days !== undefined && feed.stale_after !== undefined)
        ctx.addIssue({ code: 'custom', path: ['max_age_days'], message: 'give max_age_days or stale_after, not both (they set the same limit)' });
    })
    .transform(({ max_age_days, stale_after, ...rest }) => {
      const staleAfter = max_age_days !== undefined ? max_age_days * DAY_MS : (stale_after ?? 7 * DAY_MS);
      return { ...rest, stale_after: staleAfter, max_age_days: staleAfter / DAY_MS };
    })
    .prefault({}),
  // Change-triggered micro-scans: the agent follows the router's device tables (API listen, or SSH polling).
  watch: z
    .strictObject({
      enabled: z.boolean({ error: 'expected true or false' }).default(false),
      // Quiet time after a host's first change before its micro-scan; at most 25 s, so a host is scanned within 30 s.
      debounce: durationSchema.refine((ms) => ms <= 25_000, { error: 'expected at most 25s (a changed host is scanned within 30 s)' }).default(5000),
      max_scans_per_minute: intRange(1, 600).default(10),
      // SSH has no listen: the tables are read this often and diffed.
      poll_interval: durationSchema.refine((ms) => ms <= 3_600_000, { error: 'expected at most 1h' }).default(30_000),
      // Over the API, how often the router's own version and channel are read (nothing streams them).
      version_poll: durationSchema.refine((ms) => ms <= 3_600_000, { error: 'expected at most 1h' }).default(60_000),
      min_cvss: z.number({ error: 'expected a CVSS score from 0 to 10' }).min(0).max(10).default(0),
      warning_threshold: z.number({ error: 'expected a CVSS score from 0 to 10' }).min(0).max(10).default(7),
    })
    .superRefine((watch, ctx) => {
      if (watch.min_cvss >= watch.warning_threshold)
        ctx.addIssue({ code: 'custom', path: ['warning_threshold'], message: `must be greater than min_cvss (${watch.min_cvss})` });
    })
    .prefault({}),
  // Local schedules for a site without a control plane; validated by the API's schedule rules (see load.ts).
  schedules: z.array(z.record(z.string(), z.unknown()), { error: 'expected a list of schedules' }).default([]),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

/** Keys a SIGHUP applies at once; a change to any other key is logged as needing a restart. */
export const reloadableKeys = new Set<keyof ParsedConfig>(['router', 'subnets', 'control_plane', 'scheduler', 'scan', 'feed', 'schedules']);

/**
 * The one schema of the control plane's config.yaml: validation, defaults and the TypeScript type
 * come from it. Strict everywhere, so a misspelt key is an error, never silently ignored.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { exactlyOneOf, intRange, nonEmpty, secretKeyNames, secretKeys } from '../../shared/config/fields.js';
import { sourcesSettingsSchema } from '../../cve/sources/config.js';

/** An IP address, or one with a prefix length (what proxy-addr accepts). */
const addressOrCidr = z.string({ error: 'expected an address or CIDR' }).refine(
  (value) => {
    const [address = '', prefix, ...rest] = value.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
  },
  { error: 'expected an IP address or CIDR such as 10.0.0.5 or 10.0.0.0/24' },
);

const httpUrl = (what: string) => z.url({ protocol: /^https?$/, error: `expected an http:// or https:// URL (${what})` });

export const authSchema = z
  .strictObject({
    ...secretKeys('hs256_secret'),
    jwks_url: httpUrl('the JWKS of your identity provider').optional(),
    issuer: nonEmpty('the expected iss claim').optional(),
    audience: nonEmpty('the expected aud claim').optional(),
    clock_tolerance_seconds: intRange(0, 300).default(30),
  })
  .superRefine(exactlyOneOf([...secretKeyNames('hs256_secret'), 'jwks_url'], true));

export const notificationGroupSchema = z
  .strictObject({
    /** The HMAC key of the X-Signature header; each receiver checks it with the same key. */
    ...secretKeys('secret'),
    /** Empty: the group's schedules notify no one yet (a new control plane's `default` group, until receivers are added). */
    webhooks: z.array(httpUrl('a webhook receiver'), { error: 'expected a list of URLs' }),
  })
  .superRefine(exactlyOneOf(secretKeyNames('secret'), true));

/**
 * Where the control plane keeps its state: the embedded SQLite file (the default), or a PostgreSQL
 * database that several nodes share (docs/deploy-cluster.md). The URL carries a password, so it is
 * a secret like the others: inline, from a file (a systemd credential) or from the environment.
 */
export const storeSchema = z
  .strictObject({
    sqlite: z
      .strictObject({
        /** Default: control-plane.db in state_dir; relative to the config file's directory. */
        path: nonEmpty('a file path').optional(),
      })
      .optional(),
    postgres: z
      .strictObject({
        ...secretKeys('url'),
        pool: z
          .strictObject({
            /** Connections this node opens at most (each node has its own pool; see docs/deploy-cluster.md). */
            max: intRange(1, 1000).default(10),
          })
          .prefault({}),
      })
      .superRefine(exactlyOneOf(secretKeyNames('url'), true))
      .optional(),
  })
  .superRefine(exactlyOneOf(['sqlite', 'postgres'], false));

/** Requests per minute a node admits; each node counts its own (docs/deploy-cluster.md). */
export const rateLimitSchema = z.strictObject({
  /** Every request from one client address (X-Forwarded-For from a trusted proxy). */
  per_address_per_minute: intRange(1, 1_000_000).default(600),
  /** Every request with one bearer token (its org and subject) or one console session. */
  per_token_per_minute: intRange(1, 1_000_000).default(1200),
});

export const configSchema = z.strictObject({
  config_version: z.literal(1, { error: 'expected 1 (the only config version this control plane knows)' }).default(1),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { error: 'expected one of fatal, error, warn, info, debug, trace' }).default('info'),
  state_dir: nonEmpty('a directory path').optional(),
  listen: z
    .strictObject({
      // Loopback unless told otherwise: put a TLS-terminating proxy in front for agents and operators.
      host: nonEmpty('an address to bind').default('127.0.0.1'),
      port: intRange(0, 65535).default(8780),
      /**
       * The TLS proxies in front (addresses or CIDRs) whose X-Forwarded-For/-Proto/-Host are
       * believed: without them every browser behind the proxy shares its address, and one
       * guesser would throttle everyone's sign-in.
       */
      trust_proxy: z.array(addressOrCidr, { error: 'expected a list of addresses or CIDRs' }).default([]),
    })
    .prefault({}),
  /** How operators and webhook receivers reach this server; doc_url and report_url are built from it. */
  public_url: httpUrl('the address operators use').optional(),
  store: storeSchema.prefault({}),
  rate_limit: rateLimitSchema.prefault({}),
  auth: authSchema,
  hub: z
    .strictObject({
      max_frame_bytes: intRange(16 * 1024, 16 * 1024 * 1024).default(512 * 1024),
      hello_timeout_seconds: intRange(1, 120).default(10),
      heartbeat_interval_seconds: intRange(1, 60).default(10),
    })
    .prefault({}),
  scans: z
    .strictObject({
      /** A site that has not finished this long after its scan started is failed, so a scan never hangs on a lost agent. */
      timeout_minutes: intRange(1, 7 * 24 * 60).default(360),
      /** A scan command still undelivered this long after it was issued is dropped (the site is failed). */
      command_ttl_minutes: intRange(1, 24 * 60).default(60),
    })
    .prefault({}),
  /**
   * The feed hub (absent: none runs). Its sources keep feed.db in the state directory current,
   * each on its own schedule; every new feed version is pushed to the agents as a delta.
   */
  feeds: z
    .strictObject({
      sources: sourcesSettingsSchema,
      /** A larger delta is not sent: it is read on the event loop and stored once per site (docs/feeds.md). */
      max_delta_lines: intRange(1, 10_000_000).default(100_000),
    })
    .optional(),
  /** The web console's sign-in sessions: ended after this long without a request, and this long after sign-in at most. */
  console: z
    .strictObject({
      session_idle_minutes: intRange(5, 30 * 24 * 60).default(12 * 60),
      session_max_hours: intRange(1, 90 * 24).default(7 * 24),
    })
    .prefault({}),
  notification_groups: z.record(nonEmpty('a group name'), notificationGroupSchema, { error: 'expected a map of group names' }).default({}),
  notifications: z
    .strictObject({
      max_attempts: intRange(1, 50).default(8),
      backoff_initial_seconds: z.number({ error: 'expected seconds' }).min(0.01).max(3600).default(2),
      backoff_max_seconds: z.number({ error: 'expected seconds' }).min(0.01).max(86_400).default(600),
      timeout_seconds: intRange(1, 120).default(10),
    })
    .prefault({}),
});

export type ParsedConfig = z.output<typeof configSchema>;

/**
 * Agent -> control plane. Each report is a row of the agent's outbox: it carries the outbox's
 * strictly increasing `seq`, is sent in seq order, replayed after a reconnect until acknowledged,
 * and ingested once per (site, stream, seq) however often it arrives.
 *
 * A run is one site's part of a scan. Every report of a run names its `run_id`; the run's
 * `scan.status` comes first and says which scan it belongs to, which is what lets the control
 * plane merge the sites' runs into one scan.
 */
import { z } from 'zod';
import { cveId, cvssScore, ipv4, mac, port, seq, severity, subnet, text, utcTime, uuid } from '../fields.js';
import { coverageSchema } from '../../shared/report/coverage.js';

const report = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.strictObject({ type: z.literal(type), seq, at: utcTime, ...shape });

/**
 * Where a run comes from: a schedule's slot fired by the agent (`schedule_id` + `slot_at`), a
 * command of the control plane (`scan_id` + `sub_scan_id`), or a local scan (neither). A local
 * scan no schedule made says why in `origin`: 'watch' (the router told of a change) or
 * 're-match' (new CVE data judged against stored services), with `trigger` in words. Optional:
 * an agent before them sends neither.
 */
export const scanStatusSchema = report('scan.status', {
  run_id: uuid,
  /** 'paused': the schedule's scan window closed (or the slot fired while closed); it goes on at `resumes_at`. */
  status: z.enum(['queued', 'scanning', 'stopping', 'paused']),
  /** Sent with 'paused' only: the window's next opening. Optional, so a control plane before it still takes the report. */
  resumes_at: utcTime.optional(),
  schedule_id: uuid.nullable(),
  slot_at: utcTime.nullable(),
  scan_id: uuid.nullable(),
  sub_scan_id: uuid.nullable(),
  subnets: z.array(subnet).min(1).max(64),
  /** Set for single-ip and multiple-ips scans. */
  target_ips: z.array(ipv4).min(1).max(1024).nullable(),
  min_cvss: cvssScore,
  warning_threshold: cvssScore,
  origin: z.enum(['watch', 're-match']).optional(),
  trigger: text(300).optional(),
})
  .refine((m) => (m.scan_id === null) === (m.sub_scan_id === null), { error: 'scan_id and sub_scan_id come together', path: ['sub_scan_id'] })
  .refine((m) => m.slot_at === null || m.schedule_id !== null, { error: 'slot_at needs schedule_id', path: ['schedule_id'] })
  .refine((m) => m.origin === undefined || (m.schedule_id === null && m.scan_id === null), {
    error: 'a watch or re-match run has no schedule and no command',
    path: ['origin'],
  })
  .refine((m) => m.resumes_at === undefined || m.status === 'paused', { error: 'resumes_at comes only with paused', path: ['resumes_at'] });

export const scanProgressSchema = report('scan.progress', {
  run_id: uuid,
  percent: z.number().min(0).max(100),
  hosts_done: z.int().min(0),
  hosts_total: z.int().min(0),
});

/** A line for the scan's `events` list ("Sweeping 192.168.88.0/24", "router unreachable over API, using SSH"). */
export const scanEventSchema = report('scan.event', {
  run_id: uuid,
  level: z.enum(['info', 'warning', 'error']),
  message: text(500),
});

export const openPortSchema = z.strictObject({
  port,
  protocol: z.enum(['tcp', 'udp']),
  service: text(64).nullable(),
  product: text(200).nullable(),
  version: text(100).nullable(),
  cpe: text(300).nullable(),
});

/** A live host of the run; sent before the findings on it. */
export const hostSchema = report('host', {
  run_id: uuid,
  ip: ipv4,
  mac: mac.nullable(),
  hostname: text(255).nullable(),
  manufacturer: text(200).nullable(),
  /** Where the agent learned of it: router tables, or its own sweep. */
  sources: z.array(z.enum(['arp', 'dhcp', 'bridge', 'neighbor', 'sweep'])).max(5),
  open_ports: z.array(openPortSchema).max(1024),
  os: text(200).nullable(),
});

/** The CVE record as the agent's database holds it: the control plane keeps the latest copy for reports and mitigation advice. */
export const cveRecordSchema = z.strictObject({
  id: cveId,
  description: text(4000),
  published_at: utcTime.nullable(),
  vector: text(200).nullable(),
  score: cvssScore,
  severity,
  compliance_tags: z.array(text(50)).max(20),
  references: z.array(z.strictObject({ url: text(1000), tags: z.array(text(50)).max(10) })).max(50),
  /** Versions of the product in which the CVE is fixed, from the feed's configurations. */
  fixed_versions: z.array(text(100)).max(20),
  /** Advice the agent derived for this device (e.g. "upgrade RouterOS to 6.49.8 or later"). */
  advice: text(4000).nullable(),
});

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2024-01-13');
const probability = z.number().min(0).max(1);

/**
 * The Debian/Ubuntu tracker's verdict for the package behind the banner (src/cve/distro/verdict.ts).
 * 'fixed' and 'not-affected' mean the distribution patched it: not counted as a vulnerability.
 */
export const distroVerdictSchema = z.strictObject({
  distro: z.enum(['debian', 'ubuntu']),
  release: text(50).nullable(),
  package: text(100),
  installed_version: text(100).nullable(),
  status: z.enum(['fixed', 'vulnerable', 'not-affected', 'unknown']),
  fixed_version: text(100).nullable(),
  /** The advisory (DSA/DLA/USN) or the tracker page. */
  ref: text(300),
  url: text(500),
  reason: text(500),
});

/** In CISA's Known Exploited Vulnerabilities catalog. */
export const kevSchema = z.strictObject({ date_added: day, due_date: day.nullable(), ransomware: z.boolean() });

/** FIRST's EPSS score and the day it was scored. */
export const epssSchema = z.strictObject({ score: probability, percentile: probability, date: day });

/** How the router lets the WAN reach this service: yes (with the reasons), no, or unknown (menus missing, no router read). */
export const exposureSchema = z.strictObject({
  state: z.enum(['yes', 'no', 'unknown']),
  reasons: z.array(z.strictObject({ kind: z.enum(['dstnat', 'router-service', 'upnp']), detail: text(300) })).max(20),
});

/** One CVE on one service of one host: a CveInstance of the API. */
export const findingSchema = report('finding', {
  run_id: uuid,
  ip: ipv4,
  mac: mac.nullable(),
  port: port.nullable(),
  protocol: z.enum(['tcp', 'udp']).nullable(),
  service: text(64).nullable(),
  cpe: text(300),
  product: text(200).nullable(),
  version: text(100).nullable(),
  confidence: z.enum(['high', 'medium', 'low']),
  /** The banner or router table row the version came from. */
  evidence: text(2000),
  cve: cveRecordSchema,
  // Fix-first facts (optional: an agent before them sends none). Null: looked up, none known.
  distro: distroVerdictSchema.optional(),
  kev: kevSchema.nullable().optional(),
  epss: epssSchema.nullable().optional(),
  exposure: exposureSchema.optional(),
  /** Why the finding sits where it does in the fix-first order, one phrase each. */
  why: z.array(text(300)).max(20).optional(),
});

export const scanFinishedSchema = report('scan.finished', {
  run_id: uuid,
  status: z.enum(['completed', 'failed', 'stopped']),
  error: text(1000).nullable(),
  hosts_scanned: z.int().min(0),
  /** How many findings of this run the agent sent: the control plane checks its count against it. */
  findings_sent: z.int().min(0),
  /** What the run could not see (src/shared/report/coverage.ts). Optional: an agent before it sends none. */
  coverage: coverageSchema.optional(),
});

/** What the router knows: the site's hosts from its tables and the RouterOS version of each MikroTik neighbor. */
export const inventorySchema = report('inventory', {
  run_id: uuid.nullable(),
  router: z.strictObject({
    identity: text(255),
    routeros_version: text(64),
    board: text(100).nullable(),
    serial: text(100).nullable(),
  }),
  hosts: z
    .array(
      z.strictObject({
        mac,
        ip: ipv4.nullable(),
        hostname: text(255).nullable(),
        interface: text(100).nullable(),
        source: z.enum(['arp', 'dhcp', 'bridge', 'neighbor']),
      }),
    )
    .max(2048),
  neighbors: z
    .array(
      z.strictObject({
        mac,
        ip: ipv4.nullable(),
        identity: text(255).nullable(),
        platform: text(100).nullable(),
        version: text(64).nullable(),
      }),
    )
    .max(1024),
});

export type ScanStatus = z.infer<typeof scanStatusSchema>;
export type ScanProgress = z.infer<typeof scanProgressSchema>;
export type ScanEvent = z.infer<typeof scanEventSchema>;
export type OpenPort = z.infer<typeof openPortSchema>;
export type HostReport = z.infer<typeof hostSchema>;
export type CveRecord = z.infer<typeof cveRecordSchema>;
export type Finding = z.infer<typeof findingSchema>;
export type DistroVerdictReport = z.infer<typeof distroVerdictSchema>;
export type ExposureReport = z.infer<typeof exposureSchema>;
export type ScanFinished = z.infer<typeof scanFinishedSchema>;
export type Inventory = z.infer<typeof inventorySchema>;

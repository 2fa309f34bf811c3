/**
 * The REST shapes beyond the seed's four endpoints (README "seen" and "ours"), one zod schema
 * each: request bodies are parsed with them, and /openapi.json is generated from them.
 */
import { z } from 'zod';
import { CVE_ID_EXAMPLE, CVE_ID_INPUT_PATTERN, CVE_ID_PATTERN, normalizeCveId } from '../../shared/cve-id.js';
import { MAC_INPUT_PATTERN, MAC_PATTERN, normalizeMac } from '../../shared/mac.js';
import { justificationSchema, MARK_STATUSES, markStatusSchema } from '../../shared/mark-input.js';
import { SEVERITIES } from '../../shared/severity.js';
import { coverageSchema } from '../../shared/report/coverage.js';
import { distroVerdictSchema, epssSchema, exposureSchema, kevSchema } from '../../protocol/index.js';

const uuid = z.uuid();
const time = z.iso.datetime({ offset: true });
const ipv4 = z.ipv4({ error: 'must be an IPv4 address such as 192.168.1.55' });
/** Any spelling the MAC input rule takes; parsed to the canonical form. */
const macInput = z
  .string()
  .regex(MAC_INPUT_PATTERN, 'must be a MAC address such as 4C:5E:0C:12:34:56 or 4C-5E-0C-12-34-56')
  .transform((value) => normalizeMac(value) as string);
const mac = z.string().regex(MAC_PATTERN);
const cveIdMessage = `must be a CVE id such as ${CVE_ID_EXAMPLE}`;
const cveId = z.string().regex(CVE_ID_PATTERN, cveIdMessage);
/** A CVE id in either case; parsed to the canonical upper-case form. */
const cveIdInput = z
  .string()
  .regex(CVE_ID_INPUT_PATTERN, cveIdMessage)
  .transform((value) => normalizeCveId(value) as string);
const score = z.number().min(0).max(10);

/** Judge the site's router and its MikroTik neighbors too (from the versions the router reports; nothing is sent to them). */
const withRouter = z.boolean().optional();

export const singleIpRequest = z.strictObject({ schedule_id: uuid, site_id: uuid, ip_address: ipv4, with_router: withRouter });

export const multipleIpsRequest = z.strictObject({
  schedule_id: uuid,
  site_id: uuid,
  ips: z.array(ipv4).min(1, 'must list at least one IP').max(1024, 'must list at most 1024 IPs'),
  with_router: withRouter,
});
export const multipleIpsResponse = z.strictObject({ scan_id: uuid, scan_site_id: uuid, target_ips: z.array(ipv4), message: z.string() });

export const invokeResponse = z.strictObject({ scan_id: uuid, status: z.literal('pending'), created_at: time, message: z.string() });

export const scheduleStatus = z.strictObject({
  targets: z.array(uuid),
  scanned: z.array(uuid),
  failed: z.array(uuid),
  /** Target sites whose agent reports its storage failing (a full disk): they start no scans until it recovers. */
  storage_failing: z.array(z.strictObject({ site_id: uuid, reason: z.string().nullable(), since: time })),
});

/** What started a scan: a schedule's slot, an on-demand request (invoke, single or multiple IPs), an agent's own local scan, the router watch, or a re-match of new CVE data. */
export const SCAN_ORIGINS = ['schedule', 'on-demand', 'local', 'watch', 're-match'] as const;
export type ScanOriginName = (typeof SCAN_ORIGINS)[number];

export const scanSummary = z.strictObject({
  id: uuid,
  scan_schedule_id: uuid.nullable(),
  scan_id: z.string().regex(/^[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}$/),
  targets: z.int().min(0),
  started_at: time.nullable(),
  finished_at: time.nullable(),
  runtime: z.string().nullable(),
  average_score: score.nullable(),
  highest_score: score.nullable(),
  cve_count: z.int().min(0),
  unique_cves: z.int().min(0),
  cve_repeat_ratio: z.number().min(0),
  open_ports: z.int().min(0),
  unique_ports: z.int().min(0),
  hosts_scanned: z.int().min(0),
  hosts_with_cves: z.int().min(0),
  sites_with_cves: z.int().min(0),
  percentage_done: z.number().min(0).max(100),
  percentage_failed: z.number().min(0).max(100),
  running: z.boolean(),
  json_url: z.string(),
  pdf_url: z.string().nullable(),
  /** 'paused': every site still open waits for its schedule's scan window to open. */
  status: z.enum(['queued', 'scanning', 'paused', 'completed', 'partial', 'failed']),
  progress: z.number().min(0).max(100),
  error: z.string().nullable(),
  /** Ours, additive: what started the scan (SCAN_ORIGINS); `trigger` says what changed, for watch and re-match. */
  origin: z.enum(SCAN_ORIGINS),
  trigger: z.string().nullable(),
});

export const scanEvent = z.strictObject({ time: time, message: z.string() });
export const scanDetail = scanSummary.extend({ events: z.array(scanEvent) });

export const cveInstance = z.strictObject({
  id: uuid,
  cve_id: cveId,
  description: z.string(),
  published_at: time.nullable(),
  created_at: time,
  vector: z.string().nullable(),
  score,
  severity: z.enum(SEVERITIES),
  scan_id: uuid,
  compliance_tags: z.array(z.string()),
  host: z.strictObject({ id: uuid, hostname: z.string().nullable(), mac_address: mac.nullable(), manufacturer: z.string().nullable(), ip_address: ipv4 }),
  status: z.enum(['open', 'accepted', 'mitigated']),
  other_occurrences: z.array(z.strictObject({ id: uuid, scan_id: uuid, host_id: uuid, created_at: time })),
  port: z.int().nullable(),
  service: z.string().nullable(),
  cpe: z.string(),
  confidence: z.enum(['high', 'medium', 'low']),
  evidence: z.string(),
  // Additive, fix-first facts (docs/api.md); absent for a finding an agent before them sent.
  /** The Debian/Ubuntu tracker's verdict on the package behind the banner. */
  distro: distroVerdictSchema.optional(),
  /** CISA KEV entry; null: not in the catalog. */
  kev: kevSchema.nullable().optional(),
  /** FIRST EPSS score; null: none known. */
  epss: epssSchema.nullable().optional(),
  /** Whether the site's router lets the WAN reach it, and how. */
  exposure: exposureSchema.optional(),
  /** Why it sits where it does in the fix-first order, one phrase each. */
  why: z.array(z.string()).optional(),
  /** Place in the report's fix-first order (1 = fix first); only in a scan report. */
  priority_rank: z.int().min(1).optional(),
});

export const macCvesRequest = z.strictObject({
  mac_addresses: z.array(macInput).min(1, 'must list at least one MAC address').max(1000, 'must list at most 1000 MAC addresses'),
});

const macStat = z.strictObject({
  total_scans: z.int(),
  total_cve_instances: z.int(),
  unique_cve_count: z.int(),
  highest_score: score.nullable(),
  average_score: score.nullable(),
});
export const macCvesResponse = z.strictObject({
  mac_addresses: z.array(mac),
  total_scans: z.int(),
  total_cve_instances: z.int(),
  total_host_count: z.int(),
  mac_stats: z.record(z.string(), macStat),
  stats: z.strictObject({ unique_cve_count: z.int(), highest_score: score.nullable(), average_score: score.nullable() }),
  cves: z.array(cveInstance),
  /** `cves` is one page (`?limit=`, `?cursor=`); the counts and stats cover every instance. */
  next_cursor: z.string().nullable(),
});

export const mitigation = z.strictObject({ cve_id: cveId, mitigation: z.string(), generated_at: time });

export const cveStatus = z.strictObject({
  id: uuid,
  mac_address: mac,
  cve_id: cveId,
  status: z.enum(MARK_STATUSES),
  justification: z.string(),
  scan_id: uuid.nullable(),
  expiration_date: time.nullable(),
  created_by: z.string(),
  updated_by: z.string(),
  created_at: time,
  updated_at: time,
});
/** `next_cursor`: the cursor of the next page (`?cursor=`), null on the last page. */
export const cveStatusList = z.strictObject({ data: z.array(cveStatus), next_cursor: z.string().nullable() });
export const cveStatusRequest = z.strictObject({
  mac_address: macInput,
  cve_id: cveIdInput,
  status: markStatusSchema,
  justification: justificationSchema,
  expiration_date: time.nullable().optional(),
});
export const cveStatusCreated = z.strictObject({ data: cveStatus, message: z.string() });
export const cveStatusQuery = z.strictObject({
  mac_address: macInput.optional(),
  cve_id: cveIdInput.optional(),
  status: markStatusSchema.optional(),
});

const reportHost = z.strictObject({
  id: uuid,
  site_id: uuid,
  ip_address: ipv4,
  mac_address: mac.nullable(),
  hostname: z.string().nullable(),
  manufacturer: z.string().nullable(),
  os: z.string().nullable(),
  open_ports: z.array(
    z.strictObject({
      port: z.int(),
      protocol: z.string(),
      service: z.string().nullable(),
      product: z.string().nullable(),
      version: z.string().nullable(),
      cpe: z.string().nullable(),
    }),
  ),
  cve_count: z.int(),
});
/** The site's router as the run read it (the agent's inventory report); null when the run reported none. */
const reportRouter = z.strictObject({
  identity: z.string(),
  routeros_version: z.string(),
  board: z.string().nullable(),
  serial: z.string().nullable(),
  read_at: time,
  /** Hosts its tables know inside the run's subnets. */
  hosts_known: z.int(),
  neighbors: z.array(
    z.strictObject({
      mac_address: mac,
      ip_address: ipv4.nullable(),
      identity: z.string().nullable(),
      platform: z.string().nullable(),
      version: z.string().nullable(),
    }),
  ),
});

export const scanReport = z.strictObject({
  scan: scanDetail,
  sites: z.array(
    z.strictObject({
      site_id: uuid,
      status: z.string(),
      subnets: z.array(z.string()),
      target_ips: z.array(ipv4).nullable(),
      error: z.string().nullable(),
      started_at: time.nullable(),
      finished_at: time.nullable(),
      router: reportRouter.nullable(),
      /** What the site's run could not see (docs/reports.md); null when the agent sent none. */
      coverage: coverageSchema.nullable(),
    }),
  ),
  hosts: z.array(reportHost),
  cves: z.array(cveInstance),
  /** The CVEs at or above the scan's warning_threshold. */
  warnings: z.array(cveInstance),
  /** Additive: CVEs the distribution patched (tracker: fixed or not affected); listed, not counted in cves, warnings or the summary. */
  patched: z.array(cveInstance).optional(),
  min_cvss: score,
  warning_threshold: score,
});

export const health = z.strictObject({ status: z.literal('ok'), version: z.string(), agents_connected: z.int() });
export const readiness = z.strictObject({ status: z.literal('ready') });

/** A CVE as the feed hub holds it: the full NVD record (the agents keep only what matching needs), KEV and EPSS. */
export const hubCve = z.strictObject({
  cve_id: cveId,
  /** The NVD CVE API 2.0 `cve` object, as NVD published it. */
  record: z.record(z.string(), z.unknown()),
  kev: kevSchema.nullable(),
  epss: epssSchema.nullable(),
  /** The hub's feed version the answer was read at. */
  feed_version: z.int().min(0),
});

/** The CVE feed a site's agent last reported: the hub's version it holds and how old that data is (docs/feeds.md). */
export const siteFeed = z.strictObject({
  version: z.int().min(0),
  /** Each source's own date for the data held (nvd, kev, epss, routeros). */
  data_as_of: z.record(z.string(), z.string()),
  /** Whole days since data_as_of.nvd (or, without NVD, the freshest source date); null when no date is known. */
  age_days: z.int().min(0).nullable(),
  reported_at: time,
  /** The newest version of this control plane's feed hub (the site is behind when it is larger); null when it runs no hub. */
  hub_version: z.int().min(0).nullable(),
});

/** A site of the organization, with its agent's connection and CVE feed. */
export const site = z.strictObject({
  id: uuid,
  name: z.string(),
  online: z.boolean(),
  last_seen_at: time.nullable(),
  agent_version: z.string().nullable(),
  /** Null until the site's agent reports a feed version. */
  feed: siteFeed.nullable(),
});

// The console pages' read shapes (docs: the console spec's "Read APIs for the pages").
const severityCounts = z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, z.int().min(0)])) as Record<(typeof SEVERITIES)[number], z.ZodInt>);

/** The site's router as its agent read it last; model is the board name RouterOS reports, channel parsed from the version. */
const siteRouter = z.strictObject({
  identity: z.string(),
  model: z.string().nullable(),
  board: z.string().nullable(),
  routeros_version: z.string(),
  channel: z.string().nullable(),
  serial: z.string().nullable(),
  read_at: time,
});
const siteNeighbor = z.strictObject({
  identity: z.string().nullable(),
  platform: z.string().nullable(),
  version: z.string().nullable(),
  mac_address: mac,
  address: ipv4.nullable(),
  /** The router's interface it was seen on; null: the agent does not report it. */
  interface: z.string().nullable(),
});
/** GET /sites/{site_id}: the site with its router, MikroTik neighbors, subnets (from its schedules) and last scan. */
export const siteDetail = site.extend({
  router: siteRouter.nullable(),
  neighbors: z.array(siteNeighbor),
  subnets: z.array(z.string()),
  last_scan: z.strictObject({ id: uuid, status: scanSummary.shape.status, finished_at: time.nullable() }).nullable(),
});

const fixFirstItem = z.strictObject({
  cve_id: cveId,
  score,
  severity: z.enum(SEVERITIES),
  mac_address: mac.nullable(),
  ip_address: ipv4,
  hostname: z.string().nullable(),
  site_id: uuid,
  scan_id: uuid,
  kev: kevSchema.nullable(),
  epss: epssSchema.nullable(),
  exposure: exposureSchema.nullable(),
  why: z.array(z.string()),
  priority_rank: z.int().min(1),
});
export const overview = z.strictObject({
  sites: z.strictObject({ total: z.int().min(0), online: z.int().min(0), offline: z.int().min(0) }),
  feeds: z.array(z.strictObject({ site_id: uuid, name: z.string(), age_days: z.int().min(0).nullable() })),
  /** Open current findings (newest finished scan of each device; not accepted, mitigated or patched). */
  findings_by_severity: severityCounts,
  /** The first ten open current findings in fix-first order. */
  fix_first: z.array(fixFirstItem),
  recent_scans: z.array(scanSummary),
});

export const device = z.strictObject({
  mac_address: mac,
  manufacturer: z.string().nullable(),
  hostname: z.string().nullable(),
  site_id: uuid,
  last_ip: ipv4,
  last_seen_at: time,
  open_cves: z.int().min(0),
  highest_score: score.nullable(),
});
export const deviceDetail = z.strictObject({
  mac_address: mac,
  manufacturer: z.string().nullable(),
  hostnames: z.array(z.string()),
  site_ids: z.array(uuid),
  ips: z.array(z.strictObject({ ip_address: ipv4, first_seen_at: time, last_seen_at: time, scans: z.int().min(1) })),
  services: z.array(
    z.strictObject({ port: z.int(), service: z.string().nullable(), product: z.string().nullable(), version: z.string().nullable(), last_seen_at: time }),
  ),
  /** Current findings (the newest finished scan that saw the device), fix-first. */
  cves: z.array(cveInstance),
  /** Every mark of the device, newest first. */
  marks: z.array(cveStatus),
});

export const cveDevice = z.strictObject({
  mac_address: mac.nullable(),
  ip_address: ipv4,
  hostname: z.string().nullable(),
  site_id: uuid,
  scan_id: uuid,
  port: z.int().nullable(),
  product: z.string().nullable(),
  version: z.string().nullable(),
  score,
  status: z.enum(['open', 'accepted', 'mitigated']),
  last_seen_at: time,
});

const deltaFinding = z.strictObject({
  mac_address: mac.nullable(),
  ip_address: ipv4,
  hostname: z.string().nullable(),
  site_id: uuid,
  cve_id: cveId,
  score,
  severity: z.enum(SEVERITIES),
});
/** Findings keyed by device and CVE against the previous finished scan of the same schedule. */
export const scanDelta = z.strictObject({
  scan_id: uuid,
  previous_scan_id: uuid.nullable(),
  new: z.array(deltaFinding),
  resolved: z.array(deltaFinding),
  unchanged: z.int().min(0),
});

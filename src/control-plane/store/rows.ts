/**
 * Row shapes as both engines answer them (JSON columns as text) and the functions that turn them
 * into the store's types: one place, so SQLite and PostgreSQL answer the same objects.
 */
import type { CveRecord, OpenPort } from '../../protocol/index.js';
import type { FindingFacts, FindingView, HostRow, PendingCommand, ScanRow, SubScanRow } from './types.js';
import { fromJson } from './json.js';

/** SQLite answers 0/1 for a boolean column, PostgreSQL true/false. */
export interface RawScan extends Omit<ScanRow, 'ignore_offline_sites' | 'stop_requested'> {
  ignore_offline_sites: number | boolean;
  stop_requested: number | boolean;
}
export interface RawSubScan extends Omit<SubScanRow, 'subnets' | 'target_ips' | 'coverage'> {
  subnets: string;
  target_ips: string | null;
  coverage?: string | null;
}
export interface RawHost extends Omit<HostRow, 'sources' | 'open_ports'> {
  sources: string;
  open_ports: string;
}

export const hydrateScan = (row: RawScan): ScanRow => ({
  ...row,
  ignore_offline_sites: row.ignore_offline_sites === 1 || row.ignore_offline_sites === true,
  stop_requested: row.stop_requested === 1 || row.stop_requested === true,
});
export const hydrateSubScan = (row: RawSubScan): SubScanRow => ({
  ...row,
  subnets: fromJson(row.subnets),
  target_ips: fromJson(row.target_ips),
  coverage: row.coverage === undefined ? null : fromJson(row.coverage),
});

export const scanFields =
  'id, org_id, schedule_id, slot_at, kind, origin, trigger, label, min_cvss, warning_threshold, ignore_offline_sites, notification_group, status, stop_requested, error, created_at, started_at, finished_at, cve_count, score_sum, highest_score, warning_count';

export const hydrateHost = (row: RawHost): HostRow => ({ ...row, sources: fromJson(row.sources), open_ports: fromJson<OpenPort[]>(row.open_ports) });

/** The select every finding view is read with: the finding, its host and its CVE record (public facts, and its organization's own). */
export const findingViewSelect = `
  SELECT f.id, f.scan_id, f.site_id, f.port, f.protocol, f.service, f.cpe, f.product, f.version, f.confidence, f.evidence, f.created_at,
         f.distro, f.kev, f.epss, f.exposure, f.why,
         h.id AS host_id, h.ip AS host_ip, h.mac AS host_mac, h.hostname AS host_hostname, h.manufacturer AS host_manufacturer,
         c.id AS cve_id, c.description, c.published_at, c.vector, c.score, c.severity, c.compliance_tags, c.refs,
         COALESCE(o.fixed_versions, '[]') AS fixed_versions, o.advice
  FROM findings f JOIN hosts h ON h.id = f.host_id JOIN cves c ON c.id = f.cve_id
    LEFT JOIN org_cve_facts o ON o.org_id = f.org_id AND o.cve_id = f.cve_id`;

export interface RawFindingView {
  id: string;
  scan_id: string;
  site_id: string;
  port: number | null;
  protocol: string | null;
  service: string | null;
  cpe: string;
  product: string | null;
  version: string | null;
  confidence: string;
  evidence: string;
  created_at: string;
  host_id: string;
  host_ip: string;
  host_mac: string | null;
  host_hostname: string | null;
  host_manufacturer: string | null;
  cve_id: string;
  description: string;
  published_at: string | null;
  vector: string | null;
  score: number;
  severity: CveRecord['severity'];
  compliance_tags: string;
  refs: string;
  fixed_versions: string;
  advice: string | null;
  distro: string | null;
  kev: string | null;
  epss: string | null;
  exposure: string | null;
  why: string | null;
}

export const hydrateFinding = (row: RawFindingView): FindingView => ({
  id: row.id,
  scan_id: row.scan_id,
  site_id: row.site_id,
  host: { id: row.host_id, ip: row.host_ip, mac: row.host_mac, hostname: row.host_hostname, manufacturer: row.host_manufacturer },
  port: row.port,
  protocol: row.protocol,
  service: row.service,
  cpe: row.cpe,
  product: row.product,
  version: row.version,
  confidence: row.confidence,
  evidence: row.evidence,
  created_at: row.created_at,
  cve: {
    id: row.cve_id,
    description: row.description,
    published_at: row.published_at,
    vector: row.vector,
    score: row.score,
    severity: row.severity,
    compliance_tags: fromJson(row.compliance_tags),
    references: fromJson(row.refs),
    fixed_versions: fromJson(row.fixed_versions),
    advice: row.advice,
  },
  // Absent for a finding an agent before them sent; kev/epss null: looked up, none known.
  ...(row.distro === null ? {} : { distro: fromJson(row.distro) }),
  ...(row.kev === null ? {} : { kev: fromJson(row.kev) }),
  ...(row.epss === null ? {} : { epss: fromJson(row.epss) }),
  ...(row.exposure === null ? {} : { exposure: fromJson(row.exposure) }),
  ...(row.why === null ? {} : { why: fromJson(row.why) }),
});

/** The console's facts of a finding (ConsoleStore.currentFacts): its host, CVE and stored judgements. */
export interface RawFacts {
  id: string;
  scan_id: string;
  site_id: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  cve_id: string;
  score: number;
  severity: FindingFacts['cve']['severity'];
  cpe: string;
  distro_status: string | null;
  kev: string | null;
  epss: string | null;
  exposure: string | null;
  why: string | null;
}

/** The columns of RawFacts, from findings f, hosts h and cves c. */
export const factsFields =
  'f.id, f.scan_id, f.site_id, h.mac, h.ip, h.hostname, c.id AS cve_id, c.score, c.severity, f.cpe, f.distro_status, f.kev, f.epss, f.exposure, f.why';

export const hydrateFacts = (row: RawFacts): FindingFacts => ({
  id: row.id,
  scan_id: row.scan_id,
  site_id: row.site_id,
  host: { mac: row.mac, ip: row.ip, hostname: row.hostname },
  cve: { id: row.cve_id, score: row.score, severity: row.severity },
  cpe: row.cpe,
  distro_status: row.distro_status,
  ...(row.kev === null ? {} : { kev: fromJson(row.kev) }),
  ...(row.epss === null ? {} : { epss: fromJson(row.epss) }),
  ...(row.exposure === null ? {} : { exposure: fromJson(row.exposure) }),
  ...(row.why === null ? {} : { why: fromJson(row.why) }),
});

/** Rows of many sites (ordered by site, then seq) as each site's pending commands. */
export function groupBySite(
  rows: readonly { site_id: string; seq: number; type: string; body: string; expires_at: string | null }[],
): Map<string, PendingCommand[]> {
  const bySite = new Map<string, PendingCommand[]>();
  for (const { site_id: siteId, body, ...rest } of rows) {
    let list = bySite.get(siteId);
    if (!list) {
      list = [];
      bySite.set(siteId, list);
    }
    list.push({ ...rest, body: fromJson<Record<string, unknown>>(body) });
  }
  return bySite;
}

/** Store rows -> the API's shapes. Pure functions: the routes fetch, these shape. */
import type { z } from 'zod';
import { formatRuntime, isTerminalScan } from '../scans/status.js';
import type {
  CveMarkRow,
  FindingView,
  Occurrence,
  ScanAggregates,
  RouterInventoryRow,
  ScanEventRow,
  ScanRow,
  SiteTotals,
  StoredSchedule,
  SubScanRow,
} from '../store/types.js';
import type { cveInstance, cveStatus, scanDetail, scanSummary, ScanOriginName } from './shapes.js';
import { scheduleView } from '../../shared/schedule/view.js';
import { averageScore, repeatRatio } from '../../shared/report/summary.js';
import { deviceKey, markInForce } from '../../shared/marks.js';
import { compareFixFirst } from '../../cve/priority.js';
import type { Finding } from '../../protocol/index.js';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function renderSchedule(schedule: StoredSchedule, active: ScanRow | undefined) {
  const status = !active ? 'ready' : active.stop_requested ? 'stopping' : active.status === 'queued' ? 'starting' : 'running';
  return { ...scheduleView(schedule), running: active !== undefined, status };
}

export interface SiteCounts {
  targets: string[];
  scanned: string[];
  failed: string[];
}

/** Seed #12: targets are the sites the scan covers (skipped offline sites are not), scanned those finished either way. */
export function siteCounts(subs: readonly SubScanRow[]): SiteCounts {
  const targeted = subs.filter((sub) => sub.status !== 'skipped');
  const done = targeted.filter((sub) => ['completed', 'failed', 'stopped'].includes(sub.status));
  return {
    targets: targeted.map((s) => s.site_id),
    scanned: done.map((s) => s.site_id),
    failed: targeted.filter((s) => s.status === 'failed').map((s) => s.site_id),
  };
}

/** A scan's `progress` (0..100, one decimal): the mean of its target sites', 100 once terminal. The console's live `scan` message uses it too. */
export function scanProgress(scan: Pick<ScanRow, 'status'>, sites: SiteTotals): number {
  const progress = isTerminalScan(scan.status) ? 100 : sites.targets === 0 ? 0 : sites.progress / sites.targets;
  return round(progress, 1);
}

/** An event line as a scan's `events` show it: a multi-site scan names the site. The console's live `event` message uses it too. */
export function eventMessage(event: Pick<ScanEventRow, 'site_id' | 'message'>, multiSite: boolean): string {
  return multiSite && event.site_id !== null && !event.message.includes(event.site_id) ? `site ${event.site_id}: ${event.message}` : event.message;
}

const originOfKind = { scheduled: 'schedule', invoke: 'on-demand', single_ip: 'on-demand', multiple_ips: 'on-demand', local: 'local' } as const;

/** The summary's `origin`: a local run's own (watch, re-match), else what its kind says. */
export const scanOrigin = (scan: Pick<ScanRow, 'kind' | 'origin'>): ScanOriginName => scan.origin ?? originOfKind[scan.kind];

export function renderSummary(scan: ScanRow, sites: SiteTotals, agg: ScanAggregates, baseUrl: string, now: Date): z.infer<typeof scanSummary> {
  const terminal = isTerminalScan(scan.status);
  const { targets } = sites;
  const started = scan.started_at === null ? null : Date.parse(scan.started_at);
  const ended = scan.finished_at === null ? now.getTime() : Date.parse(scan.finished_at);
  return {
    id: scan.id,
    scan_schedule_id: scan.schedule_id,
    scan_id: scan.label,
    targets,
    started_at: scan.started_at,
    finished_at: scan.finished_at,
    runtime: started === null ? null : formatRuntime(ended - started),
    average_score: averageScore(scan.score_sum, scan.cve_count),
    highest_score: scan.highest_score,
    cve_count: scan.cve_count,
    unique_cves: agg.unique_cves,
    cve_repeat_ratio: repeatRatio(scan.cve_count, agg.unique_cves),
    open_ports: agg.open_ports,
    unique_ports: agg.unique_ports,
    hosts_scanned: agg.hosts_scanned,
    hosts_with_cves: agg.hosts_with_cves,
    sites_with_cves: agg.sites_with_cves,
    percentage_done: targets === 0 ? (terminal ? 100 : 0) : round((sites.scanned / targets) * 100, 1),
    percentage_failed: targets === 0 ? 0 : round((sites.failed / targets) * 100, 1),
    running: !terminal,
    json_url: `${baseUrl}/scans/cve/${scan.id}/report.json`,
    // The PDF is rendered on request from the finished scan's report: there is none before.
    pdf_url: terminal ? `${baseUrl}/scans/cve/${scan.id}/report.pdf` : null,
    // Paused: every site still open waits for its schedule's scan window (not a stored status).
    status: !terminal && sites.paused > 0 && sites.paused === targets - sites.scanned ? 'paused' : scan.status,
    progress: scanProgress(scan, sites),
    error: scan.error,
    origin: scanOrigin(scan),
    trigger: scan.trigger,
  };
}

export function renderDetail(summary: z.infer<typeof scanSummary>, events: readonly ScanEventRow[], multiSite: boolean): z.infer<typeof scanDetail> {
  return {
    ...summary,
    events: events.map((e) => ({ time: e.at, message: eventMessage(e, multiSite) })),
  };
}

/**
 * The status a finding shows (`markInForce`): the newest unexpired mark of its device and CVE,
 * unless it was made for another product key. Marks are by MAC: a host without one is open.
 */
export function markStatus(
  finding: { cpe: string; host: { mac: string | null }; cve: { id: string } },
  marks: readonly CveMarkRow[],
  now: Date,
): 'open' | 'accepted' | 'mitigated' {
  const mac = finding.host.mac;
  if (mac === null) return 'open';
  const mine = marks.filter((m) => m.mac_address === mac && m.cve_id === finding.cve.id).map((m) => ({ ...m, expires_at: m.expiration_date }));
  return markInForce(mine, finding, now)?.status ?? 'open';
}

/** Occurrences keyed by device and CVE, so each finding finds its others without a scan of the list. */
export function indexOccurrences(occurrences: readonly Occurrence[]): Map<string, Occurrence[]> {
  const index = new Map<string, Occurrence[]>();
  for (const o of occurrences) {
    const key = `${deviceKey(o)} ${o.cve_id}`;
    const list = index.get(key);
    if (list) list.push(o);
    else index.set(key, [o]);
  }
  return index;
}

export function renderCveInstance(
  finding: FindingView,
  marks: readonly CveMarkRow[],
  occurrences: ReadonlyMap<string, readonly Occurrence[]>,
  now: Date,
): z.infer<typeof cveInstance> {
  const mac = finding.host.mac;
  return {
    id: finding.id,
    cve_id: finding.cve.id,
    description: finding.cve.description,
    published_at: finding.cve.published_at,
    created_at: finding.created_at,
    vector: finding.cve.vector,
    score: finding.cve.score,
    severity: finding.cve.severity,
    scan_id: finding.scan_id,
    compliance_tags: finding.cve.compliance_tags,
    host: { id: finding.host.id, hostname: finding.host.hostname, mac_address: mac, manufacturer: finding.host.manufacturer, ip_address: finding.host.ip },
    status: markStatus(finding, marks, now),
    // Occurrences are fetched by MAC only (addresses repeat across sites): a host without one lists none.
    other_occurrences:
      mac === null
        ? []
        : (occurrences.get(`${deviceKey(finding.host)} ${finding.cve.id}`) ?? [])
            .filter((o) => o.id !== finding.id)
            .map((o) => ({ id: o.id, scan_id: o.scan_id, host_id: o.host_id, created_at: o.created_at })),
    port: finding.port,
    service: finding.service,
    cpe: finding.cpe,
    confidence: finding.confidence as 'high' | 'medium' | 'low',
    evidence: finding.evidence,
    ...(finding.distro === undefined ? {} : { distro: finding.distro }),
    ...(finding.kev === undefined ? {} : { kev: finding.kev }),
    ...(finding.epss === undefined ? {} : { epss: finding.epss }),
    ...(finding.exposure === undefined ? {} : { exposure: finding.exposure }),
    ...(finding.why === undefined ? {} : { why: finding.why }),
  };
}

/** Patched by the distribution (tracker: fixed or not affected): listed apart, never counted. */
export const isPatchedStatus = (status: string | null | undefined): boolean => status === 'fixed' || status === 'not-affected';
export const isPatchedFinding = (finding: Pick<FindingView, 'distro'>): boolean => isPatchedStatus(finding.distro?.status);

type Instance = z.infer<typeof cveInstance>;

/** What the fix-first order reads of a finding, whichever shape carries it. */
export interface FixFirstFacts {
  id: string;
  cve_id: string;
  score: number;
  status: 'open' | 'accepted' | 'mitigated';
  kev?: Finding['kev'];
  epss?: Finding['epss'];
  exposure?: { reasons: NonNullable<Finding['exposure']>['reasons'] };
}

/**
 * Fix-first order (cve/priority.ts): open before accepted or mitigated; then exposed and KEV,
 * KEV, exposed; then EPSS, then CVSS. The one place for this rule: reports, the overview and the
 * device page all sort with it.
 */
export function fixFirstOrder<T>(items: readonly T[], factsOf: (item: T) => FixFirstFacts): T[] {
  const keyed = items.map((item) => {
    const f = factsOf(item);
    return { item, f, facts: { cve_id: f.cve_id, score: f.score, kev: f.kev ?? null, epss: f.epss ?? null, exposure: f.exposure?.reasons ?? [] } };
  });
  const openFirst = (f: FixFirstFacts) => (f.status === 'open' ? 0 : 1);
  return keyed.sort((a, b) => openFirst(a.f) - openFirst(b.f) || compareFixFirst(a.facts, b.facts) || a.f.id.localeCompare(b.f.id)).map(({ item }) => item);
}

/** Instances in fix-first order, each with its `priority_rank`. */
export function fixFirst(instances: readonly Instance[]): Instance[] {
  return fixFirstOrder(instances, (instance) => instance).map((instance, index) => ({ ...instance, priority_rank: index + 1 }));
}

export function renderMark(mark: CveMarkRow): z.infer<typeof cveStatus> {
  return {
    id: mark.id,
    mac_address: mark.mac_address,
    cve_id: mark.cve_id,
    status: mark.status,
    justification: mark.justification,
    scan_id: mark.scan_id,
    expiration_date: mark.expiration_date,
    created_by: mark.created_by,
    updated_by: mark.updated_by,
    created_at: mark.created_at,
    updated_at: mark.updated_at,
  };
}

/** The site's router in a scan report: the inventory its run reported last, or null. */
export function renderRouter(inventory: RouterInventoryRow | undefined) {
  if (!inventory) return null;
  return {
    identity: inventory.router.identity,
    routeros_version: inventory.router.routeros_version,
    board: inventory.router.board,
    serial: inventory.router.serial,
    read_at: inventory.at,
    hosts_known: inventory.hosts.length,
    neighbors: inventory.neighbors.map((neighbor) => ({
      mac_address: neighbor.mac,
      ip_address: neighbor.ip,
      identity: neighbor.identity,
      platform: neighbor.platform,
      version: neighbor.version,
    })),
  };
}

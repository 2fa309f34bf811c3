import type { AppliedMark, MarksRepository } from './marks.js';
import type { ScanRepository } from './scan-repository.js';
import type { ConnectRateNotes, ScanRow, StoredFinding } from './scan-types.js';
import { scanCoverage } from './coverage.js';
import { compareAddresses } from '../../shared/ipv4.js';
import { deviceKey } from '../../shared/marks.js';
import { summarise, type SummaryNumbers } from '../../shared/report/summary.js';
import type { Coverage } from '../../shared/report/coverage.js';
import { isPatched, type DistroVerdict } from '../../cve/distro/verdict.js';
import { compareFixFirst } from '../../cve/priority.js';
import { patchedLine } from './cve-findings.js';

/** A stored finding as a report shows it: with the mark in force, if any. */
export interface ReportFinding extends Omit<StoredFinding, 'service' | 'references'> {
  status: 'open' | 'accepted' | 'mitigated';
  /** Place in the scan's fix-first order (1 = fix first); null for a finding the distribution patched. */
  rank: number | null;
  mark: Pick<AppliedMark, 'id' | 'status' | 'justification' | 'author' | 'expires_at' | 'created_at' | 'weak'> | null;
}

export interface ReportHost {
  ip: string;
  mac: string | null;
  hostname: string | null;
  manufacturer: string | null;
  role: string;
  randomized_mac: boolean;
  sources: string[];
  services: {
    port: number | null;
    protocol: string | null;
    service: string;
    product: string | null;
    version: string | null;
    cpe: string | null;
    confidence: number;
    evidence: string;
  }[];
  /** Vulnerabilities: not patched by the distribution, fix-first order. */
  findings: ReportFinding[];
  /** CVEs the distribution patched (tracker: fixed or not affected): listed, never counted. */
  patched: PatchedFinding[];
}

/** A CVE NVD matches but the distribution's tracker says this build is patched against. */
export interface PatchedFinding {
  cve_id: string;
  score: number;
  product: string | null;
  version_used: string;
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
  /** "patched by Debian in 1:9.2p1-2+deb12u3 (DSA-5724-1)". */
  line: string;
  distro: DistroVerdict;
}

/** One line of the fix-first list: what to fix, where, and why it comes here. */
export interface FixFirstEntry {
  rank: number;
  ip: string;
  mac: string | null;
  cve_id: string;
  score: number;
  status: ReportFinding['status'];
  product: string | null;
  port: number | null;
  why: string[];
}

export interface DeltaEntry {
  device: string;
  ip: string;
  cve_id: string;
  score: number;
}

/** The report of one scan: the JSON the CLI prints and the control plane serves. */
export interface ScanReport {
  id: string;
  label: string;
  scan_schedule_id: string | null;
  site_id: string;
  kind: string;
  /** 'paused' while its schedule's scan window is closed (see paused_until). */
  status: string;
  /** While paused: the window's opening it resumes at (UTC). */
  paused_until: string | null;
  progress: number;
  error: string | null;
  subnets: string[];
  target_ips: string[] | null;
  min_cvss: number;
  warning_threshold: number;
  started_at: string | null;
  finished_at: string | null;
  runtime_seconds: number | null;
  /** Score numbers are null when there is nothing to score; see `summarise`. */
  summary: SummaryNumbers;
  hosts: ReportHost[];
  /** Every vulnerability of the scan in fix-first order: open before accepted or mitigated, then exposed and KEV, EPSS, CVSS. */
  fix_first: FixFirstEntry[];
  /** How many findings the distribution patched (listed per host under `patched`, not counted in `summary`). */
  patched_count: number;
  delta: { previous_scan_id: string | null; new: DeltaEntry[]; fixed: DeltaEntry[]; still_open: DeltaEntry[] };
  events: { time: string; message: string }[];
  /** What the run could not see: docs/reports.md. */
  coverage: Coverage;
  /** The polite scanner: when and how much the router's CPU load slowed the connects; null when it was not watched. */
  connect_rate: ConnectRateNotes | null;
}

interface FindingRow extends Omit<
  ReportFinding,
  'status' | 'mark' | 'possibly_backported' | 'warning' | 'assumptions' | 'rank' | 'distro' | 'kev' | 'epss' | 'exposure' | 'why'
> {
  host_id: string;
  possibly_backported: number;
  warning: number;
  assumptions: string;
  distro_status: DistroVerdict['status'] | null;
  distro_name: DistroVerdict['distro'] | null;
  distro_release: string | null;
  distro_package: string | null;
  distro_installed_version: string | null;
  distro_fixed_version: string | null;
  distro_ref: string | null;
  distro_url: string | null;
  distro_reason: string | null;
  kev_date_added: string | null;
  kev_due_date: string | null;
  kev_ransomware: number | null;
  epss_score: number | null;
  epss_percentile: number | null;
  epss_date: string | null;
  exposure: 'yes' | 'no' | 'unknown';
  exposure_reasons: string;
  exposure_unknown: string | null;
  why: string;
}

/** The fix-first facts of a stored row, as objects (null where nothing was known). */
function factsOf(row: FindingRow): Pick<ReportFinding, 'distro' | 'kev' | 'epss' | 'exposure' | 'why'> {
  const distro: DistroVerdict | null =
    row.distro_status === null || row.distro_name === null
      ? null
      : {
          distro: row.distro_name,
          release: row.distro_release,
          package: row.distro_package ?? '',
          installed_version: row.distro_installed_version,
          status: row.distro_status,
          fixed_version: row.distro_fixed_version,
          ref: row.distro_ref ?? '',
          url: row.distro_url ?? '',
          reason: row.distro_reason ?? '',
        };
  return {
    distro,
    kev: row.kev_date_added === null ? null : { date_added: row.kev_date_added, due_date: row.kev_due_date, ransomware: row.kev_ransomware === 1 },
    epss: row.epss_score === null ? null : { score: row.epss_score, percentile: row.epss_percentile ?? 0, date: row.epss_date ?? '' },
    exposure: { state: row.exposure, reasons: JSON.parse(row.exposure_reasons) as ReportFinding['exposure']['reasons'], unknown_reason: row.exposure_unknown },
    why: JSON.parse(row.why) as string[],
  };
}

const flatColumns = [
  'distro_status',
  'distro_name',
  'distro_release',
  'distro_package',
  'distro_installed_version',
  'distro_fixed_version',
  'distro_ref',
  'distro_url',
  'distro_reason',
  'kev_date_added',
  'kev_due_date',
  'kev_ransomware',
  'epss_score',
  'epss_percentile',
  'epss_date',
  'exposure_reasons',
  'exposure_unknown',
] as const;

export class ReportBuilder {
  readonly #scans: ScanRepository;
  readonly #marks: MarksRepository;

  constructor(deps: { scans: ScanRepository; marks: MarksRepository }) {
    this.#scans = deps.scans;
    this.#marks = deps.marks;
  }

  #hosts(scan: ScanRow, now: string): ReportHost[] {
    const hosts = this.#scans.doneHosts(scan.id);
    const services = (hostId: string) => this.#scans.servicesOfHost<ReportHost['services'][number]>(hostId);
    const findings = (hostId: string) => this.#scans.findingsOfHost<FindingRow>(hostId);
    return hosts
      .map((host) => ({
        ip: host.ip,
        mac: host.mac,
        hostname: host.hostname,
        manufacturer: host.manufacturer,
        role: host.role,
        randomized_mac: host.randomized_mac === 1,
        sources: JSON.parse(host.sources) as string[],
        services: services(host.id),
        findings: findings(host.id).map((row): ReportFinding => {
          const mark = this.#marks.applicable({ mac: host.mac, ip: host.ip, cve_id: row.cve_id, cpe: row.cpe }, now);
          const rest: Record<string, unknown> = { ...row };
          for (const column of ['host_id', ...flatColumns]) delete rest[column];
          return {
            ...(rest as Omit<FindingRow, 'host_id' | (typeof flatColumns)[number]>),
            ...factsOf(row),
            possibly_backported: row.possibly_backported === 1,
            warning: row.warning === 1,
            assumptions: JSON.parse(row.assumptions) as string[],
            status: mark ? (mark.status as 'accepted' | 'mitigated') : 'open',
            rank: null,
            mark: mark
              ? {
                  id: mark.id,
                  status: mark.status,
                  justification: mark.justification,
                  author: mark.author,
                  expires_at: mark.expires_at,
                  created_at: mark.created_at,
                  weak: mark.weak,
                }
              : null,
          };
        }),
      }))
      .map(splitPatched)
      .sort((a, b) => compareAddresses(a.ip, b.ip));
  }

  build(scanId: string, now: string): ScanReport | undefined {
    const scan = this.#scans.get(scanId);
    if (!scan) return undefined;
    const hosts = this.#hosts(scan, now);
    const fixFirst = rankFixFirst(hosts);
    const previous = this.#scans.previous(scan);
    return {
      id: scan.id,
      label: scan.label,
      scan_schedule_id: scan.schedule_id,
      site_id: scan.site_id,
      kind: scan.kind,
      status: scan.status,
      paused_until: scan.paused_until,
      progress: scan.progress,
      error: scan.error,
      subnets: scan.subnets,
      target_ips: scan.target_ips,
      min_cvss: scan.min_cvss,
      warning_threshold: scan.warning_threshold,
      started_at: scan.started_at,
      finished_at: scan.finished_at,
      runtime_seconds: scan.started_at && scan.finished_at ? Math.round((Date.parse(scan.finished_at) - Date.parse(scan.started_at)) / 1000) : null,
      summary: summarise(
        hosts.map((host) => ({ findings: host.findings, ports: host.services.flatMap(({ protocol, port }) => (port === null ? [] : [{ protocol, port }])) })),
        scan.warning_threshold,
      ),
      hosts,
      fix_first: fixFirst,
      patched_count: hosts.reduce((sum, host) => sum + host.patched.length, 0),
      delta: delta(hosts, previous ? this.#hosts(previous, now) : undefined, previous?.id ?? null),
      events: this.#scans.events(scan.id).map(({ time, message }) => ({ time, message })),
      coverage: scanCoverage(this.#scans, scan),
      connect_rate: this.#scans.notes(scan.id).connect_rate ?? null,
    };
  }
}

type HostDraft = Omit<ReportHost, 'patched'>;

/** Takes the distribution-patched CVEs out of a host's findings into its `patched` list. */
function splitPatched(host: HostDraft): ReportHost {
  const patched: PatchedFinding[] = [];
  const findings: ReportFinding[] = [];
  for (const finding of host.findings) {
    if (finding.distro !== null && isPatched(finding.distro)) {
      const { cve_id, score, product, version_used, port, protocol, distro } = finding;
      patched.push({ cve_id, score, product, version_used, port, protocol, line: patchedLine(distro), distro });
    } else findings.push(finding);
  }
  return { ...host, findings, patched };
}

const openFirst = (finding: ReportFinding): number => (finding.status === 'open' ? 0 : 1);

/**
 * Ranks every vulnerability of the scan fix-first (cve/priority.ts: exposed and KEV, then EPSS,
 * then CVSS; open before accepted or mitigated), sets each finding's `rank`, orders each host's
 * findings by it, and returns the list.
 */
function rankFixFirst(hosts: ReportHost[]): FixFirstEntry[] {
  const all = hosts.flatMap((host) => host.findings.map((finding) => ({ host, finding })));
  all.sort(
    (a, b) =>
      openFirst(a.finding) - openFirst(b.finding) ||
      compareFixFirst({ ...a.finding, exposure: a.finding.exposure.reasons }, { ...b.finding, exposure: b.finding.exposure.reasons }) ||
      compareAddresses(a.host.ip, b.host.ip),
  );
  all.forEach(({ finding }, index) => (finding.rank = index + 1));
  for (const host of hosts) host.findings.sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
  return all.map(({ host, finding }) => ({
    rank: finding.rank ?? 0,
    ip: host.ip,
    mac: host.mac,
    cve_id: finding.cve_id,
    score: finding.score,
    status: finding.status,
    product: finding.product,
    port: finding.port,
    why: finding.why,
  }));
}

/** Devices are compared by MAC where known, else by IP. */
function delta(current: ReportHost[], previous: ReportHost[] | undefined, previousId: string | null): ScanReport['delta'] {
  if (previous === undefined) return { previous_scan_id: null, new: [], fixed: [], still_open: [] };
  const entries = (hosts: ReportHost[]) =>
    new Map(
      hosts.flatMap((host) =>
        host.findings.map((finding): [string, DeltaEntry] => [
          `${deviceKey(host)} ${finding.cve_id}`,
          { device: deviceKey(host), ip: host.ip, cve_id: finding.cve_id, score: finding.score },
        ]),
      ),
    );
  const now = entries(current);
  const before = entries(previous);
  return {
    previous_scan_id: previousId,
    new: [...now].filter(([key]) => !before.has(key)).map(([, entry]) => entry),
    fixed: [...before].filter(([key]) => !now.has(key)).map(([, entry]) => entry),
    still_open: [...now].filter(([key]) => before.has(key)).map(([, entry]) => entry),
  };
}

/** One line per finding, for spreadsheets: fix-first order, with the facts that put it there. */
export function reportCsv(report: ScanReport): string {
  const header = [
    'scan',
    'ip',
    'mac',
    'hostname',
    'port',
    'cpe',
    'version',
    'cve',
    'score',
    'severity',
    'warning',
    'status',
    'fixed_in',
    'confidence',
    'rank',
    'kev',
    'epss',
    'exposed',
    'why',
  ];
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = report.hosts
    .flatMap((host) => host.findings.map((finding) => ({ host, finding })))
    .sort((a, b) => (a.finding.rank ?? 0) - (b.finding.rank ?? 0))
    .map(({ host, finding }) => [
      report.label,
      host.ip,
      host.mac,
      host.hostname,
      finding.port,
      finding.cpe,
      finding.version_used,
      finding.cve_id,
      finding.score,
      finding.severity,
      finding.warning,
      finding.status,
      finding.fixed_in,
      finding.confidence_level,
      finding.rank,
      finding.kev?.date_added,
      finding.epss?.score,
      finding.exposure.state,
      finding.why.join('; '),
    ]);
  return `${[header, ...rows].map((row) => row.map(cell).join(',')).join('\n')}\n`;
}

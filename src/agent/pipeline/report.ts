import type { AppliedMark, MarksRepository } from './marks.js';
import type { ScanRepository } from './scan-repository.js';
import type { ScanRow, StoredFinding } from './scan-types.js';
import { scanCoverage } from './coverage.js';
import { compareAddresses } from '../../shared/ipv4.js';
import { deviceKey } from '../../shared/marks.js';
import { summarise, type SummaryNumbers } from '../../shared/report/summary.js';
import type { Coverage } from '../../shared/report/coverage.js';

/** A stored finding as a report shows it: with the mark in force, if any. */
export interface ReportFinding extends Omit<StoredFinding, 'service' | 'references'> {
  status: 'open' | 'accepted' | 'mitigated';
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
  findings: ReportFinding[];
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
  status: string;
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
  delta: { previous_scan_id: string | null; new: DeltaEntry[]; fixed: DeltaEntry[]; still_open: DeltaEntry[] };
  events: { time: string; message: string }[];
  /** What the run could not see: docs/reports.md. */
  coverage: Coverage;
}

interface FindingRow extends Omit<ReportFinding, 'status' | 'mark' | 'possibly_backported' | 'warning' | 'assumptions'> {
  host_id: string;
  possibly_backported: number;
  warning: number;
  assumptions: string;
}

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
          const { host_id: _hostId, ...rest } = row;
          return {
            ...rest,
            possibly_backported: row.possibly_backported === 1,
            warning: row.warning === 1,
            assumptions: JSON.parse(row.assumptions) as string[],
            status: mark ? (mark.status as 'accepted' | 'mitigated') : 'open',
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
      .sort((a, b) => compareAddresses(a.ip, b.ip));
  }

  build(scanId: string, now: string): ScanReport | undefined {
    const scan = this.#scans.get(scanId);
    if (!scan) return undefined;
    const hosts = this.#hosts(scan, now);
    const previous = this.#scans.previous(scan);
    return {
      id: scan.id,
      label: scan.label,
      scan_schedule_id: scan.schedule_id,
      site_id: scan.site_id,
      kind: scan.kind,
      status: scan.status,
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
      delta: delta(hosts, previous ? this.#hosts(previous, now) : undefined, previous?.id ?? null),
      events: this.#scans.events(scan.id).map(({ time, message }) => ({ time, message })),
      coverage: scanCoverage(this.#scans, scan),
    };
  }
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

/** One line per finding, for spreadsheets. */
export function reportCsv(report: ScanReport): string {
  const header = ['scan', 'ip', 'mac', 'hostname', 'port', 'cpe', 'version', 'cve', 'score', 'severity', 'warning', 'status', 'fixed_in', 'confidence'];
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = report.hosts.flatMap((host) =>
    host.findings.map((finding) => [
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
    ]),
  );
  return `${[header, ...rows].map((row) => row.map(cell).join(',')).join('\n')}\n`;
}

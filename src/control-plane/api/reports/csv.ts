/**
 * report.csv: one row per CVE instance of the report, in the report's own fix-first order
 * (report-data.ts decides it; this only writes it). RFC 4180 quoting, CRLF line ends, and cells
 * that a spreadsheet would run as a formula (a hostname such as `=HYPERLINK(...)`) prefixed with `'`.
 */
import type { ScanReportBody } from '../report-data.js';

export const CSV_COLUMNS = [
  'priority_rank',
  'cve_id',
  'score',
  'severity',
  'status',
  'kev',
  'epss',
  'exposed',
  'mac_address',
  'ip_address',
  'hostname',
  'manufacturer',
  'site_id',
  'port',
  'service',
  'cpe',
  'distro',
  'why',
  'scan_id',
] as const;

type Cell = string | number | boolean | null | undefined;

function cell(value: Cell): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (cells: readonly Cell[]) => `${cells.map(cell).join(',')}\r\n`;

/** The CSV, a line at a time (a Readable.from of it streams). */
export function* reportCsv(report: ScanReportBody): Generator<string> {
  const siteOfHost = new Map(report.hosts.map((host) => [host.id, host.site_id]));
  yield line(CSV_COLUMNS);
  for (const cve of report.cves) {
    const distro =
      cve.distro === undefined ? null : `${cve.distro.distro} ${cve.distro.release ?? ''} ${cve.distro.package}: ${cve.distro.status}`.replace(/\s+/g, ' ');
    yield line([
      cve.priority_rank,
      cve.cve_id,
      cve.score,
      cve.severity,
      cve.status,
      cve.kev ? 'yes' : cve.kev === null ? 'no' : null,
      cve.epss?.score,
      cve.exposure?.state,
      cve.host.mac_address,
      cve.host.ip_address,
      cve.host.hostname,
      cve.host.manufacturer,
      siteOfHost.get(cve.host.id),
      cve.port,
      cve.service,
      cve.cpe,
      distro,
      (cve.why ?? []).join('; '),
      cve.scan_id,
    ]);
  }
}

/**
 * report.pdf with pdfkit: summary, schedule and scope, feed age per site, hosts by MAC, CVEs in
 * the report's fix-first order (report-data.ts decides it), marks. Helvetica is one of the PDF
 * standard fonts pdfkit ships, so nothing depends on the system's fonts and the text stays
 * extractable. The document is a Readable the route streams out while this writes it: writing
 * pauses whenever the reader is behind, so memory stays bounded however long the report is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import PDFDocument from 'pdfkit';
import type { CveMarkRow, StoredSchedule } from '../../store/types.js';
import type { ScanReportBody } from '../report-data.js';

export interface PdfSite {
  id: string;
  name: string;
  feed_version: number | null;
  feed_age_days: number | null;
}

export interface PdfReportInput {
  report: ScanReportBody;
  /** The scan's schedule; undefined for a scan without one, or once it was deleted. */
  schedule: StoredSchedule | undefined;
  sites: ReadonlyMap<string, PdfSite>;
  /** Marks of the report's devices and CVEs, newest first. */
  marks: readonly CveMarkRow[];
  generatedAt: Date;
}

/** Bytes the document may hold unread before writing waits for the reader. */
export const PDF_BUFFER_LIMIT = 256 * 1024;
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** What the standard fonts can show: WinAnsiEncoding (Latin-1 and a few more). */
const WIN_ANSI = /^[\n\x20-\x7E\xA0-\xFF€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]*$/u;

/**
 * Text the standard fonts can encode: a letter outside WinAnsi loses its accent (`Rīga` ->
 * `Riga`), anything else becomes `?`. pdfkit would otherwise write bytes that garble the whole
 * line in a text extractor (a site named Rīga would hide the CVE id beside it).
 */
export function pdfSafe(text: string): string {
  return text.replace(/[^\n\x20-\x7E\xA0-\xFF€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]/gu, (char) => {
    const base = char.normalize('NFKD').replace(/\p{M}/gu, '');
    return base !== '' && base !== char && WIN_ANSI.test(base) ? base : '?';
  });
}

export function createReportPdf(title: string): PDFKit.PDFDocument {
  return new PDFDocument({ size: 'A4', margin: 48, font: 'Helvetica', info: { Title: title, Creator: 'edge-cve control plane' } });
}

/** A time in a zone, as the console shows times: `2026-12-05 14:00 Europe/Riga`. */
export function inZone(iso: string | null, zone: string): string {
  if (iso === null) return '-';
  return `${DateTime.fromISO(iso, { zone }).toFormat('yyyy-LL-dd HH:mm')} ${zone}`;
}

/** Writes the whole report into `doc` and ends it; stops early if the reader went away. */
export async function writeReportPdf(doc: PDFKit.PDFDocument, input: PdfReportInput, bufferLimit = PDF_BUFFER_LIMIT): Promise<void> {
  const { report, schedule } = input;
  const zone = schedule?.timezone ?? 'UTC';
  const scan = report.scan;
  const pace = async () => {
    while (doc.readableLength > bufferLimit && !doc.destroyed) await sleep(5);
  };
  const heading = (text: string) => doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).text(pdfSafe(text)).moveDown(0.3).font('Helvetica').fontSize(9);
  const line = (text: string, bold = false) =>
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .text(pdfSafe(text))
      .font('Helvetica');
  const siteName = (id: string) => input.sites.get(id)?.name ?? id;

  doc
    .font('Helvetica-Bold')
    .fontSize(18)
    .text(pdfSafe(`Scan report ${scan.scan_id}`));
  doc
    .font('Helvetica')
    .fontSize(9)
    .text(`Scan ${scan.id}, generated ${inZone(input.generatedAt.toISOString(), zone)}`);

  heading('Summary');
  line(`Status: ${scan.status}${scan.error ? ` (${scan.error})` : ''}`);
  line(`Started: ${inZone(scan.started_at, zone)}   Finished: ${inZone(scan.finished_at, zone)}   Runtime: ${scan.runtime ?? '-'}`);
  line(`Sites: ${scan.targets} targeted, ${scan.percentage_failed}% failed   Hosts scanned: ${scan.hosts_scanned}, with CVEs: ${scan.hosts_with_cves}`);
  line(`CVEs: ${scan.cve_count} instances, ${scan.unique_cves} unique, ${report.warnings.length} warnings (score ${report.warning_threshold} or more, open)`);
  line(`Highest score: ${scan.highest_score ?? '-'}   Average score: ${scan.average_score ?? '-'}   Minimum CVSS reported: ${report.min_cvss}`);
  if (report.cves.length === 0) line('No CVEs were found in this scan.', true);

  heading('Schedule and scope');
  if (schedule) {
    line(`${schedule.description}`, true);
    line(
      `Every ${schedule.every_n_weeks} weeks on ${DAYS[schedule.day_of_week] ?? schedule.day_of_week} at ${schedule.time_of_day}, zone ${schedule.timezone}`,
    );
    line(`Notification group: ${schedule.notification_group}   Offline sites ignored: ${schedule.ignore_offline_sites ? 'yes' : 'no'}`);
  } else {
    line('No schedule: a scan started on its own, or its schedule was deleted. Times are in UTC.');
  }
  for (const site of report.sites) {
    const scope = site.target_ips ? `addresses ${site.target_ips.join(', ')}` : `subnets ${site.subnets.join(', ')}`;
    line(`${siteName(site.site_id)}: ${scope}; ${site.status}${site.error ? ` (${site.error})` : ''}`);
    if (site.router) line(`  Router ${site.router.identity}, RouterOS ${site.router.routeros_version}${site.router.board ? `, ${site.router.board}` : ''}`);
  }

  heading('CVE feed age per site');
  for (const site of report.sites) {
    const known = input.sites.get(site.site_id);
    const age = known?.feed_age_days;
    line(
      `${siteName(site.site_id)}: ${known?.feed_version == null ? 'no feed version reported' : `feed version ${known.feed_version}, data ${age == null ? 'of unknown age' : `${age} day(s) old`}`}`,
    );
  }

  heading('Hosts by MAC');
  const hosts = [...report.hosts].sort((a, b) => (a.mac_address ?? '~').localeCompare(b.mac_address ?? '~') || a.ip_address.localeCompare(b.ip_address));
  if (hosts.length === 0) line('No hosts answered.');
  for (const host of hosts) {
    line(
      `${host.mac_address ?? 'MAC unknown'}   ${host.ip_address}   ${host.hostname ?? '-'}   ${host.manufacturer ?? 'vendor unknown'}   ${host.cve_count} CVE(s)`,
      true,
    );
    const ports = host.open_ports.map(
      (p) => `${p.port}/${p.protocol}${p.service ? ` ${p.service}` : ''}${p.product ? ` ${p.product}` : ''}${p.version ? ` ${p.version}` : ''}`,
    );
    line(`  Open ports: ${ports.length === 0 ? 'none' : ports.join(', ')}`);
    await pace();
  }

  heading('CVEs, fix first');
  if (report.cves.length === 0) line('No CVEs were found in this scan.');
  for (const cve of report.cves) {
    const kev = cve.kev ? `KEV since ${cve.kev.date_added}${cve.kev.ransomware ? ', ransomware' : ''}` : cve.kev === null ? 'not in KEV' : 'KEV -';
    const epss = cve.epss ? `EPSS ${cve.epss.score.toFixed(3)}` : 'EPSS -';
    line(`${cve.priority_rank ?? '-'}. ${cve.cve_id}   ${cve.score.toFixed(1)} ${cve.severity}   ${kev}   ${epss}   ${cve.status}`, true);
    line(
      `  Host ${cve.host.mac_address ?? 'MAC unknown'} ${cve.host.ip_address}${cve.host.hostname ? ` (${cve.host.hostname})` : ''}, port ${cve.port ?? '-'}, ${cve.cpe}`,
    );
    if (cve.distro) line(`  Distribution: ${cve.distro.distro} ${cve.distro.release ?? ''} ${cve.distro.package} ${cve.distro.status}: ${cve.distro.reason}`);
    if (cve.why && cve.why.length > 0) line(`  Why: ${cve.why.join('; ')}`);
    await pace();
  }
  if (report.patched && report.patched.length > 0) {
    heading('Patched by the distribution (not counted)');
    for (const cve of report.patched) line(`${cve.cve_id} on ${cve.host.mac_address ?? cve.host.ip_address}: ${cve.distro?.reason ?? ''}`);
  }

  heading('Marks (accepted or mitigated)');
  if (input.marks.length === 0) line('No CVE of this report is marked accepted or mitigated.');
  for (const mark of input.marks) {
    line(
      `${mark.cve_id} on ${mark.mac_address}: ${mark.status} by ${mark.created_by}, ${inZone(mark.created_at, zone)}, expires ${mark.expiration_date === null ? 'never' : inZone(mark.expiration_date, zone)}`,
      true,
    );
    line(`  ${mark.justification}`);
    await pace();
  }
  doc.end();
}

/** What a scan changed since the previous one, and its report as CSV and PDF (report.json is in scans.ts). */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth.js';
import { addRoute, type ApiDeps } from '../context.js';
import { scanDeltaOf } from '../render-console.js';
import { buildReport, requireTerminal, scanOf } from '../report-data.js';
import { reportCsv } from '../reports/csv.js';
import { createReportPdf, writeReportPdf, type PdfSite } from '../reports/pdf.js';
import { feedAgeDays } from './sites.js';

export function registerReportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id/delta',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const scan = await scanOf(deps, principal.org, (request.params as { scan_id: string }).scan_id);
      const previous = await store.console.previousScan(scan);
      const [current, before] = await Promise.all([store.scans.findings(scan.id), previous ? store.scans.findings(previous.id) : []]);
      return { status: 200, body: { scan_id: scan.id, previous_scan_id: previous?.id ?? null, ...scanDeltaOf(current, before) } };
    },
  });

  /** The finished scan and its report.json body; 404 for another organization's, 409 while it runs. */
  async function reportOf(request: FastifyRequest, principal: Principal) {
    const scan = await scanOf(deps, principal.org, (request.params as { scan_id: string }).scan_id);
    requireTerminal(scan);
    return { scan, report: await buildReport(deps, request, principal.org, scan) };
  }
  const download = (type: string, name: string) => ({ 'content-type': type, 'content-disposition': `attachment; filename="${name}"` });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id/report.csv',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const { scan, report } = await reportOf(request, principal);
      return { status: 200, body: Readable.from(reportCsv(report)), headers: download('text/csv; charset=utf-8', `scan-${scan.label}.csv`) };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id/report.pdf',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const { scan, report } = await reportOf(request, principal);
      const siteIds = new Set(report.sites.map((site) => site.site_id));
      const cveKeys = new Set(report.cves.map((cve) => `${cve.host.mac_address} ${cve.cve_id}`));
      const macs = [...new Set(report.cves.flatMap((cve) => (cve.host.mac_address === null ? [] : [cve.host.mac_address])))];
      const [schedule, sites, feeds, marks] = await Promise.all([
        scan.schedule_id === null ? undefined : store.schedules.get(principal.org, scan.schedule_id),
        store.sites.list(principal.org),
        store.sites.feeds(principal.org),
        store.vulns.marksOf(principal.org, macs),
      ]);
      const now = deps.clock.now();
      const pdfSites = new Map<string, PdfSite>(
        sites
          .filter((site) => siteIds.has(site.id))
          .map((site) => {
            const feed = feeds.get(site.id);
            return [
              site.id,
              { id: site.id, name: site.name, feed_version: feed?.version ?? null, feed_age_days: feed ? feedAgeDays(feed.data_as_of, now) : null },
            ];
          }),
      );
      const doc = createReportPdf(`Scan report ${scan.label}`);
      // Written while fastify streams it out; a failure mid-way ends the response (the status is already sent).
      writeReportPdf(doc, {
        report,
        schedule,
        sites: pdfSites,
        marks: marks.filter((mark) => cveKeys.has(`${mark.mac_address} ${mark.cve_id}`)),
        generatedAt: now,
      }).catch((error: unknown) => {
        deps.logger.error({ err: error, scan_id: scan.id }, 'report.pdf failed while streaming');
        doc.destroy(error as Error);
      });
      return { status: 200, body: doc, headers: download('application/pdf', `scan-${scan.label}.pdf`) };
    },
  });
}

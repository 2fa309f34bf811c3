/** What a scan changed since the previous one, and its report as CSV and PDF (report.json is in scans.ts). */
import type { FastifyInstance } from 'fastify';
import { addRoute, type ApiDeps } from '../context.js';
import { scanDeltaOf } from '../render-console.js';
import { scanOf } from '../report-data.js';

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
}

/** Endpoints 10-12 and the report: scan summaries, one scan with its events, a schedule's latest status. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import type { ScanRow } from '../../store/types.js';
import { addRoute, baseUrlOf, type ApiDeps } from '../context.js';
import { renderDetail, scanOrigin, siteCounts } from '../render.js';
import { SCAN_ORIGINS } from '../shapes.js';
import { buildReport, requireTerminal, scanOf as scanOfOrg, summaryOf } from '../report-data.js';
import { isUuid, pathId } from '../validate.js';
import { nextHeaders, pageOf, pageRequest } from '../paging.js';
import { parseScanRef } from '../../../shared/scan-label.js';

/** The summary's events list holds the latest ones; the report holds them all. */
const SUMMARY_EVENTS = 100;

export function registerScanRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  const summary = (request: FastifyRequest, scan: ScanRow) => summaryOf(deps, request, scan);
  const scanOf = (orgId: string, rawId: string) => scanOfOrg(deps, orgId, rawId);

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const {
        scan_schedule_id: scheduleId,
        scan_id: scanRef,
        origin,
      } = request.query as { scan_schedule_id?: string | string[]; scan_id?: string | string[]; origin?: string | string[] };
      if (scheduleId !== undefined && (typeof scheduleId !== 'string' || !isUuid(scheduleId)))
        throw new ApiError('parameter_invalid', 'scan_schedule_id: must be a UUID', 400);
      const ref = typeof scanRef === 'string' ? parseScanRef(scanRef) : undefined;
      if (scanRef !== undefined && ref === undefined)
        throw new ApiError('parameter_invalid', 'scan_id: must be a scan label such as ABC-DEF-GHJ or a scan UUID', 400);
      if (origin !== undefined && (typeof origin !== 'string' || !(SCAN_ORIGINS as readonly string[]).includes(origin)))
        throw new ApiError('parameter_invalid', `origin: must be one of ${SCAN_ORIGINS.join(', ')}`, 400);
      const page = pageRequest(request);
      const scans = (await store.scans.list(principal.org, scheduleId?.toLowerCase())).filter(
        (scan) =>
          (ref === undefined || (ref.kind === 'uuid' ? scan.id === ref.id : scan.label === ref.label)) && (origin === undefined || scanOrigin(scan) === origin),
      );
      const { data, next } = pageOf(scans, (scan) => [scan.created_at, scan.id], ['desc', 'asc'], page);
      return {
        status: 200,
        body: await Promise.all(data.map(async (scan) => (await summary(request, scan)).summary)),
        headers: nextHeaders(request, baseUrlOf(request, deps.publicUrl), next, page.limit),
      };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const scan = await scanOf(principal.org, (request.params as { scan_id: string }).scan_id);
      const [{ multiSite, summary: body }, events] = await Promise.all([summary(request, scan), store.scans.events(scan.id, SUMMARY_EVENTS)]);
      return { status: 200, body: renderDetail(body, events, multiSite) };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id/status',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const id = pathId((request.params as { scan_id: string }).scan_id, 'schedule_not_found');
      const [schedule, latest] = await Promise.all([store.schedules.get(principal.org, id), store.scans.latestOfSchedule(principal.org, id)]);
      // A deleted schedule's past scans stay, and so does the answer about its latest one.
      if (!schedule && !latest) throw new ApiError('schedule_not_found');
      const counts = latest ? siteCounts(await store.scans.subScans(latest.id)) : { targets: [], scanned: [], failed: [] };
      // The schedule's sites whose agent cannot write now (a full disk): why their part does not start.
      const siteIds = [...new Set([...counts.targets, ...(schedule?.sites ?? []).map((site) => site.id)])];
      const failing = siteIds.flatMap((siteId) => {
        const storage = deps.hub.storageOf(siteId);
        return storage?.state === 'failing' ? [{ site_id: siteId, reason: storage.reason, since: storage.since }] : [];
      });
      return { status: 200, body: { ...counts, storage_failing: failing } };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/:scan_id/report.json',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const scan = await scanOf(principal.org, (request.params as { scan_id: string }).scan_id);
      requireTerminal(scan);
      return { status: 200, body: await buildReport(deps, request, principal.org, scan) };
    },
  });
}

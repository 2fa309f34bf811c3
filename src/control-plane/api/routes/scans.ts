/** Endpoints 10-12 and the report: scan summaries, one scan with its events, a schedule's latest status. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import { isTerminalScan } from '../../scans/status.js';
import type { ScanRow } from '../../store/types.js';
import { addRoute, baseUrlOf, type ApiDeps } from '../context.js';
import { fixFirst, indexOccurrences, isPatchedFinding, renderCveInstance, renderDetail, renderRouter, renderSummary, siteCounts } from '../render.js';
import { isUuid, pathId } from '../validate.js';
import { nextHeaders, pageOf, pageRequest } from '../paging.js';
import { isOpenWarning } from '../../../shared/report/thresholds.js';
import { parseScanRef } from '../../../shared/scan-label.js';

/** The summary's events list holds the latest ones; the report holds them all. */
const SUMMARY_EVENTS = 100;

export function registerScanRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  async function summary(request: FastifyRequest, scan: ScanRow) {
    const [sites, agg] = await Promise.all([store.scans.siteTotals(scan.id), store.scans.aggregates(scan.id)]);
    return { multiSite: sites.targets > 1, summary: renderSummary(scan, sites, agg, baseUrlOf(request, deps.publicUrl), clock.now()) };
  }

  async function scanOf(orgId: string, rawId: string): Promise<ScanRow> {
    const scan = await store.scans.get(orgId, pathId(rawId, 'scan_not_found'));
    if (!scan) throw new ApiError('scan_not_found');
    return scan;
  }

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const { scan_schedule_id: scheduleId, scan_id: scanRef } = request.query as { scan_schedule_id?: string | string[]; scan_id?: string | string[] };
      if (scheduleId !== undefined && (typeof scheduleId !== 'string' || !isUuid(scheduleId)))
        throw new ApiError('parameter_invalid', 'scan_schedule_id: must be a UUID', 400);
      const ref = typeof scanRef === 'string' ? parseScanRef(scanRef) : undefined;
      if (scanRef !== undefined && ref === undefined)
        throw new ApiError('parameter_invalid', 'scan_id: must be a scan label such as ABC-DEF-GHJ or a scan UUID', 400);
      const page = pageRequest(request);
      const scans = (await store.scans.list(principal.org, scheduleId?.toLowerCase())).filter(
        (scan) => ref === undefined || (ref.kind === 'uuid' ? scan.id === ref.id : scan.label === ref.label),
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
      if (!isTerminalScan(scan.status))
        throw new ApiError('scan_not_complete', `Scan ${scan.id} is ${scan.status}; poll GET /scans/cve/${scan.id} until it is completed, partial or failed.`);
      const [{ multiSite, summary: body }, subs, routers, events, hosts, findings] = await Promise.all([
        summary(request, scan),
        store.scans.subScans(scan.id),
        store.scans.routerInventories(scan.id),
        store.scans.events(scan.id),
        store.scans.hosts(scan.id),
        store.scans.findings(scan.id),
      ]);
      const macs = [...new Set(findings.map((f) => f.host.mac).filter((mac): mac is string => mac !== null))];
      const [marks, occurrences] = await Promise.all([store.vulns.marksOf(principal.org, macs), store.vulns.occurrences(principal.org, macs)]);
      const index = indexOccurrences(occurrences);
      const now = clock.now();
      // Vulnerabilities fix-first; what the distribution patched is listed apart and never counted.
      const cves = fixFirst(findings.filter((finding) => !isPatchedFinding(finding)).map((finding) => renderCveInstance(finding, marks, index, now)));
      const patched = findings.filter(isPatchedFinding).map((finding) => renderCveInstance(finding, marks, index, now));
      return {
        status: 200,
        body: {
          scan: renderDetail(body, events, multiSite),
          sites: subs.map((sub) => ({
            site_id: sub.site_id,
            status: sub.status,
            subnets: sub.subnets,
            target_ips: sub.target_ips,
            error: sub.error,
            started_at: sub.started_at,
            finished_at: sub.finished_at,
            router: renderRouter(routers.find((router) => router.sub_scan_id === sub.id)),
            coverage: sub.coverage,
          })),
          hosts: hosts.map((host) => ({
            id: host.id,
            site_id: host.site_id,
            ip_address: host.ip,
            mac_address: host.mac,
            hostname: host.hostname,
            manufacturer: host.manufacturer,
            os: host.os,
            open_ports: host.open_ports,
            cve_count: host.cve_count,
          })),
          cves,
          // An accepted or mitigated CVE is no longer a warning.
          warnings: cves.filter((cve) => isOpenWarning(cve, scan.warning_threshold)),
          patched,
          min_cvss: scan.min_cvss,
          warning_threshold: scan.warning_threshold,
        },
      };
    },
  });
}

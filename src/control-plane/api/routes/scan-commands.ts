/** Endpoints 6-9: run a schedule now, stop it, scan one IP or a list of IPs. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import { sitesOf } from '../../scans/scan-service.js';
import type { StoredSchedule } from '../../store/types.js';
import { addRoute, type ApiDeps } from '../context.js';
import { multipleIpsRequest, singleIpRequest } from '../shapes.js';
import { parseBody, pathId } from '../validate.js';
import { inScope } from '../../../shared/ipv4.js';

type IdParams = FastifyRequest<{ Params: { scanScheduleId: string } }>;

const ACCEPTED = 'Scan initiated. Check back for results.';

export function registerScanCommandRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  async function schedule(orgId: string, id: string): Promise<StoredSchedule> {
    const found = await store.schedules.get(orgId, id.toLowerCase());
    if (!found) throw new ApiError('schedule_not_found');
    return found;
  }

  /** The seed's order of checks: unknown schedule or site is 404, a site not in the schedule or an IP outside its subnets is 422. */
  async function checkTargets(
    orgId: string,
    body: { schedule_id: string; site_id: string },
    ips: string[],
  ): Promise<{ schedule: StoredSchedule; siteId: string }> {
    const found = await schedule(orgId, body.schedule_id);
    const siteId = body.site_id.toLowerCase();
    const site = await store.sites.get(siteId);
    if (!site || site.org_id !== orgId) throw new ApiError('site_not_found');
    const subnets = sitesOf(found).get(siteId);
    if (!subnets) throw new ApiError('site_not_in_schedule', `site_id: ${siteId} is not one of the sites of schedule ${found.id}.`);
    const outside = ips.find((ip) => !inScope(ip, subnets));
    if (outside !== undefined)
      throw new ApiError('ip_outside_site_subnet', `${outside} is outside the subnets of site ${siteId} in this schedule (${subnets.join(', ')}).`);
    return { schedule: found, siteId };
  }

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/scheduled/:scanScheduleId/invoke',
    scope: 'cve:create',
    handler: async (request, principal) => {
      const found = await schedule(principal.org, pathId((request as IdParams).params.scanScheduleId, 'schedule_not_found'));
      const running = await store.scans.activeOfSchedule(found.id);
      if (running)
        throw new ApiError('scan_already_running', `Scan ${running.id} of this schedule is still ${running.status}; stop it or wait for it to finish.`);
      const scan = await deps.scans.invoke(found);
      return { status: 202, body: { scan_id: scan.id, status: 'pending', created_at: scan.created_at, message: ACCEPTED } };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/scans/cve/scheduled/:scanScheduleId/invoke',
    scope: 'cve:update',
    handler: async (request, principal) => {
      const found = await schedule(principal.org, pathId((request as IdParams).params.scanScheduleId, 'schedule_not_found'));
      await deps.scans.stop(found.id);
      return { status: 202 };
    },
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/scheduled/single-ip',
    scope: 'cve:create',
    handler: async (request, principal) => {
      const body = parseBody(singleIpRequest, request.body);
      const { schedule: found, siteId } = await checkTargets(principal.org, body, [body.ip_address]);
      const { scan } = await deps.scans.scanIps(found, siteId, [body.ip_address], 'single_ip', { withRouter: body.with_router === true });
      return {
        status: 202,
        body: { scan_id: scan.id, status: 'pending', ip_address: body.ip_address, site_id: siteId, created_at: scan.created_at, message: ACCEPTED },
      };
    },
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/scan/multiple-ips',
    scope: 'cve:create',
    handler: async (request, principal) => {
      const body = parseBody(multipleIpsRequest, request.body);
      const ips = [...new Set(body.ips)];
      const { schedule: found, siteId } = await checkTargets(principal.org, body, ips);
      const { scan, subScanId } = await deps.scans.scanIps(found, siteId, ips, 'multiple_ips', { withRouter: body.with_router === true });
      return { status: 202, body: { scan_id: scan.id, scan_site_id: subScanId, target_ips: ips, message: ACCEPTED } };
    },
  });
}

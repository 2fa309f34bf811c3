/** Endpoints 1-5: list, create, get, replace and delete scan schedules. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ScanScheduleWrite } from '../../../shared/schedule/rules.js';
import { nextScanAt } from '../../../shared/schedule/next-run.js';
import { ApiError } from '../../errors.js';
import type { OutgoingCommand } from '../../hub/hub.js';
import { sitesOf } from '../../scans/scan-service.js';
import type { StoredSchedule } from '../../store/types.js';
import { addRoute, baseUrlOf, type ApiDeps } from '../context.js';
import { nextHeaders, pageOf, pageRequest } from '../paging.js';
import { renderSchedule } from '../render.js';
import { parseScheduleBody, pathId } from '../validate.js';

type IdParams = FastifyRequest<{ Params: { scanScheduleId: string } }>;

export function registerScheduleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  async function checkReferences(orgId: string, body: ScanScheduleWrite): Promise<void> {
    for (const siteId of sitesOf(body).keys()) {
      const site = await store.sites.get(siteId);
      if (!site || site.org_id !== orgId) throw new ApiError('site_unknown', `sites: ${siteId} is not a site of your organization.`);
    }
    if (!Object.hasOwn(deps.notificationGroups, body.notification_group)) {
      throw new ApiError(
        'notification_group_unknown',
        `notification_group: ${JSON.stringify(body.notification_group)} is not configured on the control plane.`,
      );
    }
  }

  const normalized = (body: ScanScheduleWrite): ScanScheduleWrite => ({
    ...body,
    sites: body.sites.map((site) => ({ id: site.id.toLowerCase(), subnet: site.subnet })),
  });

  /** Each site's part of the schedule, and a delete for the sites it no longer names. */
  function pushes(schedule: StoredSchedule, removedSites: string[]): OutgoingCommand[] {
    const { org_id: _org, next_scan_at: _next, last_run_at: _last, created_at: _created, window, ...rest } = schedule;
    // Left out when there is none, so an agent before scan windows still takes the schedule.
    const windowed = window ? { ...rest, window } : rest;
    return [
      ...[...sitesOf(schedule)].map(([siteId, subnets]) => ({
        siteId,
        type: 'schedule.upsert' as const,
        body: { schedule: { ...windowed, sites: subnets.map((subnet) => ({ id: siteId, subnet })) } },
      })),
      ...removedSites.map((siteId) => ({ siteId, type: 'schedule.delete' as const, body: { schedule_id: schedule.id } })),
    ];
  }

  async function render(schedule: StoredSchedule) {
    return renderSchedule(schedule, await store.scans.activeOfSchedule(schedule.id));
  }

  async function existing(orgId: string, rawId: string): Promise<StoredSchedule> {
    const schedule = await store.schedules.get(orgId, pathId(rawId, 'schedule_not_found'));
    if (!schedule) throw new ApiError('schedule_not_found');
    return schedule;
  }

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/scheduled',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const page = pageRequest(request);
      const { data, next } = pageOf(await store.schedules.list(principal.org), (s) => [s.created_at, s.id], ['desc', 'asc'], page);
      return { status: 200, body: await Promise.all(data.map(render)), headers: nextHeaders(request, baseUrlOf(request, deps.publicUrl), next, page.limit) };
    },
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/scheduled',
    scope: 'cve:create',
    handler: async (request, principal) => {
      const body = normalized(parseScheduleBody(request.body));
      await checkReferences(principal.org, body);
      const now = clock.now();
      const at = now.toISOString();
      const schedule: StoredSchedule = {
        ...body,
        window: body.window ?? null,
        id: randomUUID(),
        org_id: principal.org,
        anchor_at: at,
        next_scan_at: nextScanAt(body, now, now).toUTC().toISO() as string,
        last_run_at: null,
        created_at: at,
        updated_at: at,
      };
      const commands = pushes(schedule, []);
      deps.hub.deliver(commands, await store.schedules.insert(schedule, deps.hub.prepare(commands)));
      return { status: 201, body: await render(schedule) };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/scheduled/:scanScheduleId',
    scope: 'cve:view',
    handler: async (request, principal) => ({ status: 200, body: await render(await existing(principal.org, (request as IdParams).params.scanScheduleId)) }),
  });

  addRoute(app, deps, {
    method: 'PUT',
    url: '/scans/cve/scheduled/:scanScheduleId',
    scope: 'cve:update',
    handler: async (request, principal) => {
      const before = await existing(principal.org, (request as IdParams).params.scanScheduleId);
      const body = normalized(parseScheduleBody(request.body));
      await checkReferences(principal.org, body);
      const now = clock.now();
      // The anchor stays: the fortnightly rhythm of a schedule survives an edit of its time of day.
      const schedule: StoredSchedule = {
        ...before,
        ...body,
        // A body without `window` (the seed's shape) keeps the window; `window: null` clears it.
        window: body.window === undefined ? (before.window ?? null) : body.window,
        next_scan_at: nextScanAt(body, new Date(before.anchor_at), now).toUTC().toISO() as string,
        updated_at: now.toISOString(),
      };
      const kept = sitesOf(schedule);
      const commands = pushes(
        schedule,
        [...sitesOf(before).keys()].filter((siteId) => !kept.has(siteId)),
      );
      const stored = await store.schedules.replace(schedule, deps.hub.prepare(commands));
      if (!stored) throw new ApiError('schedule_not_found');
      deps.hub.deliver(commands, stored);
      return { status: 200, body: await render(schedule) };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/scans/cve/scheduled/:scanScheduleId',
    scope: 'cve:delete',
    handler: async (request, principal) => {
      const schedule = await existing(principal.org, (request as IdParams).params.scanScheduleId);
      await deps.scans.stop(schedule.id);
      const commands = [...sitesOf(schedule).keys()].map((siteId) => ({ siteId, type: 'schedule.delete' as const, body: { schedule_id: schedule.id } }));
      const stored = await store.schedules.delete(principal.org, schedule.id, deps.hub.prepare(commands));
      if (!stored) throw new ApiError('schedule_not_found');
      deps.hub.deliver(commands, stored);
      return { status: 204 };
    },
  });
}

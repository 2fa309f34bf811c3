/** The organization's sites: each with its agent's connection and the CVE feed version it holds. */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { ApiError } from '../../errors.js';
import type { Site, SiteFeed } from '../../store/types.js';
import { addRoute, baseUrlOf, type ApiDeps } from '../context.js';
import { nextHeaders, pageOf, pageRequest } from '../paging.js';
import type { site as siteShape } from '../shapes.js';
import { pathId } from '../validate.js';
import { renderSiteRouter } from '../render-console.js';

const DAY_MS = 86_400_000;

/** Days since NVD's date for the data (what matching depends on), else since the freshest source's date. */
export function feedAgeDays(dataAsOf: Record<string, string>, now: Date): number | null {
  const dates = (dataAsOf.nvd !== undefined ? [dataAsOf.nvd] : Object.values(dataAsOf)).map((value) => Date.parse(value)).filter((ms) => !Number.isNaN(ms));
  if (dates.length === 0) return null;
  return Math.max(0, Math.floor((now.getTime() - Math.max(...dates)) / DAY_MS));
}

export function registerSiteRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  function render(site: Site, feed: SiteFeed | undefined): z.output<typeof siteShape> {
    return {
      id: site.id,
      name: site.name,
      online: deps.hub.isOnline(site.id),
      last_seen_at: site.last_seen_at,
      agent_version: site.agent_version,
      feed:
        feed === undefined
          ? null
          : {
              version: feed.version,
              data_as_of: feed.data_as_of,
              age_days: feedAgeDays(feed.data_as_of, clock.now()),
              reported_at: feed.at,
              hub_version: deps.newestFeedVersion?.() ?? null,
            },
    };
  }

  addRoute(app, deps, {
    method: 'GET',
    url: '/sites',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const page = pageRequest(request);
      const [sites, feeds] = await Promise.all([store.sites.list(principal.org), store.sites.feeds(principal.org)]);
      const { data, next } = pageOf(sites, (site) => [site.created_at, site.id], ['desc', 'asc'], page);
      return {
        status: 200,
        body: data.map((site) => render(site, feeds.get(site.id))),
        headers: nextHeaders(request, baseUrlOf(request, deps.publicUrl), next, page.limit),
      };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/sites/:site_id',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const id = pathId((request.params as { site_id: string }).site_id, 'site_not_found');
      const found = await store.sites.get(id);
      if (!found || found.org_id !== principal.org) throw new ApiError('site_not_found');
      const [feeds, inventory, schedules, lastScan] = await Promise.all([
        store.sites.feeds(principal.org),
        store.console.latestInventory(found.id),
        store.schedules.list(principal.org),
        store.console.lastScanOfSite(principal.org, found.id),
      ]);
      const subnets = schedules.flatMap((schedule) => schedule.sites.filter((entry) => entry.id === found.id).map((entry) => entry.subnet));
      return {
        status: 200,
        body: {
          ...render(found, feeds.get(found.id)),
          ...renderSiteRouter(inventory),
          subnets: [...new Set(subnets)],
          last_scan: lastScan === undefined ? null : { id: lastScan.id, status: lastScan.status, finished_at: lastScan.finished_at },
        },
      };
    },
  });
}

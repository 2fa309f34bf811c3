/** GET /overview: the console's first page — sites online, feed age, open findings by severity, what to fix first, recent scans. */
import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../../shared/severity.js';
import { addRoute, type ApiDeps } from '../context.js';
import { currentInstances, fixFirstItem } from '../render-console.js';
import { summaryOf } from '../report-data.js';
import { feedAgeDays } from './sites.js';

const FIX_FIRST = 10;
const RECENT_SCANS = 5;

export function registerOverviewRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  addRoute(app, deps, {
    method: 'GET',
    url: '/overview',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const org = principal.org;
      const [sites, feeds, findings, scans] = await Promise.all([
        store.sites.list(org),
        store.sites.feeds(org),
        store.console.currentFindings(org),
        store.scans.list(org),
      ]);
      const macs = [...new Set(findings.map((f) => f.host.mac).filter((mac): mac is string => mac !== null))];
      const [marks, occurrences] = await Promise.all([store.vulns.marksOf(org, macs), store.vulns.occurrences(org, macs)]);
      const now = clock.now();
      const open = currentInstances(findings, marks, occurrences, now).filter((instance) => instance.status === 'open');
      const siteOf = new Map(findings.map((f) => [f.id, f.site_id]));
      const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<(typeof SEVERITIES)[number], number>;
      for (const instance of open) bySeverity[instance.severity] += 1;
      const online = sites.filter((site) => deps.hub.isOnline(site.id)).length;
      return {
        status: 200,
        body: {
          sites: { total: sites.length, online, offline: sites.length - online },
          feeds: sites.map((site) => {
            const feed = feeds.get(site.id);
            return { site_id: site.id, name: site.name, age_days: feed === undefined ? null : feedAgeDays(feed.data_as_of, now) };
          }),
          findings_by_severity: bySeverity,
          fix_first: open.slice(0, FIX_FIRST).map((instance) => fixFirstItem(instance, siteOf.get(instance.id) as string)),
          recent_scans: await Promise.all(scans.slice(0, RECENT_SCANS).map(async (scan) => (await summaryOf(deps, request, scan)).summary)),
        },
      };
    },
  });
}

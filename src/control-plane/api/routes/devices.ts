/** Devices by MAC across the organization's scans, and the devices with a given CVE. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CVE_ID_EXAMPLE, normalizeCveId } from '../../../shared/cve-id.js';
import { normalizeMac } from '../../../shared/mac.js';
import { ApiError } from '../../errors.js';
import type { FindingView } from '../../store/types.js';
import { addRoute, baseUrlOf, type ApiDeps } from '../context.js';
import { nextHeaders, pageOf, pageRequest } from '../paging.js';
import { isPatchedFinding, markStatus, renderMark } from '../render.js';
import { currentInstances, renderSightings } from '../render-console.js';
import { isUuid } from '../validate.js';

const macsOf = (findings: readonly FindingView[]) => [...new Set(findings.map((f) => f.host.mac).filter((mac): mac is string => mac !== null))];

export function registerDeviceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  addRoute(app, deps, {
    method: 'GET',
    url: '/devices',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const page = pageRequest(request);
      const { site_id: siteId, q } = request.query as { site_id?: unknown; q?: unknown };
      if (siteId !== undefined && (typeof siteId !== 'string' || !isUuid(siteId))) throw new ApiError('parameter_invalid', 'site_id: must be a UUID', 400);
      if (q !== undefined && (typeof q !== 'string' || q.length > 200))
        throw new ApiError('parameter_invalid', 'q: must be one text of at most 200 characters', 400);
      const [hosts, findings] = await Promise.all([store.console.devices(principal.org), store.console.currentFindings(principal.org)]);
      const marks = await store.vulns.marksOf(principal.org, macsOf(findings));
      const now = clock.now();
      // Open current findings per MAC (accepted, mitigated and patched ones are not open).
      const open = new Map<string, number[]>();
      for (const f of findings) {
        if (f.host.mac === null || isPatchedFinding(f) || markStatus(f, marks, now) !== 'open') continue;
        open.set(f.host.mac, [...(open.get(f.host.mac) ?? []), f.cve.score]);
      }
      const needle = typeof q === 'string' ? q.trim().toLowerCase() : '';
      const matching = hosts.filter(
        (h) =>
          (siteId === undefined || h.site_id === siteId.toLowerCase()) &&
          (needle === '' || [h.mac, h.ip, h.hostname, h.manufacturer].some((field) => field?.toLowerCase().includes(needle))),
      );
      const { data, next } = pageOf(matching, (h) => [h.created_at, h.mac as string], ['desc', 'asc'], page);
      return {
        status: 200,
        body: data.map((h) => {
          const scores = open.get(h.mac as string) ?? [];
          return {
            mac_address: h.mac as string,
            manufacturer: h.manufacturer,
            hostname: h.hostname,
            site_id: h.site_id,
            last_ip: h.ip,
            last_seen_at: h.created_at,
            open_cves: scores.length,
            highest_score: scores.length === 0 ? null : Math.max(...scores),
          };
        }),
        headers: nextHeaders(request, baseUrlOf(request, deps.publicUrl), next, page.limit),
      };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/devices/:mac',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const mac = normalizeMac((request as FastifyRequest<{ Params: { mac: string } }>).params.mac);
      if (mac === undefined) throw new ApiError('device_not_found');
      const [hosts, findings, marks, occurrences] = await Promise.all([
        store.console.hostsOfMac(principal.org, mac),
        store.console.currentFindings(principal.org, { mac }),
        store.vulns.marksOf(principal.org, [mac]),
        store.vulns.occurrences(principal.org, [mac]),
      ]);
      if (hosts.length === 0) throw new ApiError('device_not_found');
      return {
        status: 200,
        body: {
          mac_address: mac,
          ...renderSightings(hosts),
          cves: currentInstances(findings, marks, occurrences, clock.now()),
          marks: marks.map(renderMark),
        },
      };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/cves/:cve_id/devices',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const id = normalizeCveId((request as FastifyRequest<{ Params: { cve_id: string } }>).params.cve_id);
      if (id === undefined) throw new ApiError('parameter_invalid', `cve_id: must be a CVE id such as ${CVE_ID_EXAMPLE}`, 422);
      // A CVE no scan of this organization reported is not known to it (another organization's findings stay theirs).
      if ((await store.vulns.cve(principal.org, id)) === undefined) throw new ApiError('cve_not_found');
      const findings = (await store.console.currentFindings(principal.org, { cveId: id })).filter((f) => !isPatchedFinding(f));
      const marks = await store.vulns.marksOf(principal.org, macsOf(findings));
      const now = clock.now();
      return {
        status: 200,
        body: findings
          .map((f) => ({
            mac_address: f.host.mac,
            ip_address: f.host.ip,
            hostname: f.host.hostname,
            site_id: f.site_id,
            scan_id: f.scan_id,
            port: f.port,
            product: f.product,
            version: f.version,
            score: f.cve.score,
            status: markStatus(f, marks, now),
            last_seen_at: f.created_at,
          }))
          .sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at)),
      };
    },
  });
}

/** Endpoints 13-16: CVEs by device, mitigation advice, accepted/mitigated marks. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CVE_ID_EXAMPLE, normalizeCveId } from '../../../shared/cve-id.js';
import { expiryProblem } from '../../../shared/mark-input.js';
import { ApiError } from '../../errors.js';
import type { CveMarkRow, FindingView } from '../../store/types.js';
import { addRoute, type ApiDeps } from '../context.js';
import { buildMitigation } from '../mitigation.js';
import { indexOccurrences, isPatchedFinding, renderCveInstance, renderMark } from '../render.js';
import { cveStatusQuery, cveStatusRequest, macCvesRequest } from '../shapes.js';
import { parseBody } from '../validate.js';
import { pageOf, pageRequest } from '../paging.js';
import { averageScore, highestScore } from '../../../shared/report/summary.js';

function scoreStats(findings: readonly FindingView[]) {
  const scores = findings.map((f) => f.cve.score);
  return {
    unique_cve_count: new Set(findings.map((f) => f.cve.id)).size,
    highest_score: highestScore(scores),
    average_score: averageScore(
      scores.reduce((a, b) => a + b, 0),
      scores.length,
    ),
  };
}

export function registerVulnerabilityRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/mac-address/cves',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const page = pageRequest(request);
      const body = parseBody(macCvesRequest, request.body);
      const macs = [...new Set(body.mac_addresses)];
      const [all, marks, occurrences] = await Promise.all([
        store.vulns.findingsByMacs(principal.org, macs),
        store.vulns.marksOf(principal.org, macs),
        store.vulns.occurrences(principal.org, macs),
      ]);
      // A CVE the distribution patched is not a vulnerability of the device: neither listed nor counted here.
      const findings = all.filter((finding) => !isPatchedFinding(finding));
      const now = clock.now();
      const index = indexOccurrences(occurrences);
      const cvePage = pageOf(findings, (f) => [f.id], ['desc'], page);
      const macStats = Object.fromEntries(
        macs.map((mac) => {
          const mine = findings.filter((f) => f.host.mac === mac);
          return [mac, { total_scans: new Set(mine.map((f) => f.scan_id)).size, total_cve_instances: mine.length, ...scoreStats(mine) }];
        }),
      );
      return {
        status: 200,
        body: {
          mac_addresses: macs,
          total_scans: new Set(findings.map((f) => f.scan_id)).size,
          total_cve_instances: findings.length,
          total_host_count: new Set(findings.map((f) => f.host.id)).size,
          mac_stats: macStats,
          stats: scoreStats(findings),
          // Counts and stats cover every finding; `cves` is one page of them, newest first.
          cves: cvePage.data.map((finding) => renderCveInstance(finding, marks, index, now)),
          next_cursor: cvePage.next,
        },
      };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/cves/:cve_id',
    scope: 'cve:view',
    handler: async (request) => {
      const id = normalizeCveId((request as FastifyRequest<{ Params: { cve_id: string } }>).params.cve_id);
      if (id === undefined) throw new ApiError('parameter_invalid', `cve_id: must be a CVE id such as ${CVE_ID_EXAMPLE}`, 422);
      // Public NVD data, the same for every organization: no tenancy check is needed.
      const held = deps.feedCve?.(id);
      if (held === undefined) throw new ApiError('cve_record_not_found');
      return { status: 200, body: { cve_id: id, ...held } };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/mitigation/:cve_id',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const id = normalizeCveId((request as FastifyRequest<{ Params: { cve_id: string } }>).params.cve_id);
      if (id === undefined) throw new ApiError('parameter_invalid', `cve_id: must be a CVE id such as ${CVE_ID_EXAMPLE}`, 422);
      const cve = await store.vulns.cve(principal.org, id);
      if (!cve) throw new ApiError('cve_not_found', `No scan of your organization has reported ${id}.`);
      return { status: 200, body: { cve_id: id, mitigation: buildMitigation(cve), generated_at: clock.now().toISOString() } };
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/scans/cve/mac-address/cve/status',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const page = pageRequest(request);
      const { limit: _limit, cursor: _cursor, ...filters } = (request.query ?? {}) as Record<string, unknown>;
      const query = parseBody(cveStatusQuery, filters);
      const marks = await store.vulns.listMarks(principal.org, query);
      // Newest first; marks made in the same millisecond keep the store's order, so the key holds the position among them.
      let runStart = 0;
      const keyed = marks.map((mark, i) => {
        if (i > 0 && marks[i - 1]?.created_at !== mark.created_at) runStart = i;
        return { mark, key: [mark.created_at, i - runStart] as const };
      });
      const { data, next } = pageOf(keyed, (k) => k.key, ['desc', 'asc'], page);
      return { status: 200, body: { data: data.map((k) => renderMark(k.mark)), next_cursor: next } };
    },
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/scans/cve/mac-address/cve/status',
    scope: 'cve:update',
    handler: async (request, principal) => {
      const body = parseBody(cveStatusRequest, request.body);
      const now = clock.now();
      const expiration = body.expiration_date ?? null;
      const expiryRefused = expiration === null ? undefined : expiryProblem(expiration, now);
      if (expiryRefused !== undefined) throw new ApiError('parameter_invalid', `expiration_date: ${expiryRefused}`, 422);
      const mac = body.mac_address;
      // The detected version at the time of the mark: the mark lapses once the device reports another.
      const latest = await store.vulns.latestFinding(principal.org, mac, body.cve_id);
      const at = now.toISOString();
      const mark: CveMarkRow = {
        id: randomUUID(),
        org_id: principal.org,
        mac_address: mac,
        cve_id: body.cve_id,
        status: body.status,
        justification: body.justification,
        scan_id: latest?.scan_id ?? null,
        product: latest?.product ?? null,
        version: latest?.version ?? null,
        cpe: latest?.cpe ?? null,
        expiration_date: expiration === null ? null : new Date(expiration).toISOString(),
        created_by: principal.sub,
        updated_by: principal.sub,
        created_at: at,
        updated_at: at,
      };
      const { org_id: _org, scan_id: _scan, updated_by: _u, created_by: _c, updated_at: _ua, cpe: _cpe, ...relayed } = mark;
      const commands = latest ? [{ siteId: latest.site_id, type: 'vuln.mark' as const, body: { mark: relayed } }] : [];
      deps.hub.deliver(commands, await store.vulns.insertMark(mark, deps.hub.prepare(commands)));
      return { status: 201, body: { data: renderMark(mark), message: `${body.cve_id} on ${mac} marked ${body.status}.` } };
    },
  });
}

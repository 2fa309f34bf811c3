/**
 * A scan's summary and its report as the routes assemble them: report.json, report.csv and
 * report.pdf all read the report from here, so the fix-first order (render.ts `fixFirst`), the
 * patched split and the warnings are decided in one place.
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isOpenWarning } from '../../shared/report/thresholds.js';
import { ApiError } from '../errors.js';
import { isTerminalScan } from '../scans/status.js';
import type { ScanRow } from '../store/types.js';
import { baseUrlOf, type ApiDeps } from './context.js';
import { fixFirst, indexOccurrences, isPatchedFinding, renderCveInstance, renderDetail, renderRouter, renderSummary } from './render.js';
import type { scanReport } from './shapes.js';
import { pathId } from './validate.js';

export type ScanReportBody = z.infer<typeof scanReport>;

/** The scan's summary, and whether it spans sites (its events then name theirs). */
export async function summaryOf(deps: ApiDeps, request: FastifyRequest, scan: ScanRow) {
  const [sites, agg] = await Promise.all([deps.store.scans.siteTotals(scan.id), deps.store.scans.aggregates(scan.id)]);
  return { multiSite: sites.targets > 1, summary: renderSummary(scan, sites, agg, baseUrlOf(request, deps.publicUrl), deps.clock.now()) };
}

/** The organization's scan by its path id; 404 `scan_not_found` otherwise. */
export async function scanOf(deps: ApiDeps, orgId: string, rawId: string): Promise<ScanRow> {
  const scan = await deps.store.scans.get(orgId, pathId(rawId, 'scan_not_found'));
  if (!scan) throw new ApiError('scan_not_found');
  return scan;
}

/** A report exists once the scan is terminal: 409 `scan_not_complete` before. */
export function requireTerminal(scan: ScanRow): void {
  if (!isTerminalScan(scan.status))
    throw new ApiError('scan_not_complete', `Scan ${scan.id} is ${scan.status}; poll GET /scans/cve/${scan.id} until it is completed, partial or failed.`);
}

/** report.json's body: summary, sites, hosts, CVEs fix-first, warnings and what the distribution patched. */
export async function buildReport(deps: ApiDeps, request: FastifyRequest, orgId: string, scan: ScanRow): Promise<ScanReportBody> {
  const { store, clock } = deps;
  const [{ multiSite, summary: body }, subs, routers, events, hosts, findings] = await Promise.all([
    summaryOf(deps, request, scan),
    store.scans.subScans(scan.id),
    store.scans.routerInventories(scan.id),
    store.scans.events(scan.id),
    store.scans.hosts(scan.id),
    store.scans.findings(scan.id),
  ]);
  const macs = [...new Set(findings.map((f) => f.host.mac).filter((mac): mac is string => mac !== null))];
  const [marks, occurrences] = await Promise.all([store.vulns.marksOf(orgId, macs), store.vulns.occurrences(orgId, macs)]);
  const index = indexOccurrences(occurrences);
  const now = clock.now();
  // Vulnerabilities fix-first; what the distribution patched is listed apart and never counted.
  const cves = fixFirst(findings.filter((finding) => !isPatchedFinding(finding)).map((finding) => renderCveInstance(finding, marks, index, now)));
  const patched = findings.filter(isPatchedFinding).map((finding) => renderCveInstance(finding, marks, index, now));
  return {
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
  };
}

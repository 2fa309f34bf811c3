/**
 * A run's coverage statement (src/shared/report/coverage.ts): counted from what the run stored
 * (its hosts, services and their probe cuts) and what it noted as it went (the CVE data, the
 * router's read and which devices were judged). All of it is in the store, so a resumed run's
 * report is whole, and the same statement goes to the control plane with scan.finished.
 */
import { expandTargets } from '../scan/targets.js';
import { compareAddresses } from '../../shared/ipv4.js';
import { COVERAGE_LIST_MAX, type Coverage } from '../../shared/report/coverage.js';
import type { ScanRepository } from './scan-repository.js';
import type { ProbeCut, ScanRow } from './scan-types.js';

/** How the sweep tells a host that answered: a connect accepted or refused. */
const answeredBy = new Set(['tcp-open', 'tcp-refused']);

function inScopeCount(scan: ScanRow): number {
  try {
    return expandTargets(scan.target_ips ?? scan.subnets).length;
  } catch {
    return 0;
  }
}

const byAddress = <T extends { ip: string }>(a: T, b: T) => compareAddresses(a.ip, b.ip);
const listOf = <T>(items: T[]) => ({ count: items.length, list: items.slice(0, COVERAGE_LIST_MAX) });

export function scanCoverage(repo: ScanRepository, scan: ScanRow): Coverage {
  const hosts = repo.coverageHosts(scan.id).sort(byAddress);
  const notes = repo.notes(scan.id);
  const probed = hosts.filter((host) => host.role === 'host');
  const answered = hosts.filter((host) => answeredBy.has(host.found_by) || host.open_ports > 0).length;
  const silent = listOf(
    probed
      .filter((host) => host.state === 'done' && host.found_by === 'known-alive' && host.open_ports === 0)
      .map(({ ip, mac, hostname }) => ({ ip, mac, hostname })),
  );
  const closed = listOf(probed.filter((host) => host.state === 'done' && answeredBy.has(host.found_by) && host.open_ports === 0).map((host) => host.ip));
  const unversioned = listOf(repo.unversionedServices(scan.id).sort((a, b) => byAddress(a, b) || a.port - b.port));
  const cuts = listOf(hosts.flatMap((host) => (JSON.parse(host.probe_cuts) as ProbeCut[]).map((cut) => ({ ip: host.ip, ...cut }))));
  const cveData = notes.cve_data;
  const warnings = [
    ...(notes.warnings ?? []),
    ...(cveData === null ? ['no CVE data was loaded: no CVE could be judged'] : cveData?.warning ? [cveData.warning] : []),
  ];
  return {
    addresses: { in_scope: inScopeCount(scan), answered },
    router_known_silent: { count: silent.count, hosts: silent.list },
    alive_without_open_port: { count: closed.count, hosts: closed.list },
    services_unversioned: { count: unversioned.count, services: unversioned.list },
    probes_cut: { count: cuts.count, probes: cuts.list },
    router: notes.router ?? { state: 'not_read', judged: false, reason: 'the scan ended before the router was read' },
    devices: (notes.devices ?? []).slice(0, COVERAGE_LIST_MAX),
    cve_data: cveData
      ? {
          cves: cveData.cves,
          newest_record: cveData.newest_record,
          data_as_of: cveData.data_as_of,
          age_days: cveData.age_days,
          stale: cveData.stale,
          ...(cveData.max_age_days === undefined ? {} : { max_age_days: cveData.max_age_days }),
        }
      : null,
    warnings: warnings.map((warning) => warning.slice(0, 500)).slice(0, 100),
  };
}

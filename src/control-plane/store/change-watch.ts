/**
 * Alerts on change, the rules both engines apply (sqlite/change-watch.ts, postgres/change-watch.ts).
 * Each site keeps what its runs reported: its devices (a MAC, or an address where there is none),
 * each device's CVEs open or closed, and its router's RouterOS version. When a run finishes
 * completed or stopped (a stopped run's hosts were each scanned whole: the agent reports a host
 * with its findings), its report is compared with that state and only the differences alert:
 * - `device.new`: a device the site never reported;
 * - `finding.new`: a CVE first seen on a device; `finding.resurfaced`: seen again after it closed;
 * - `finding.closed`: the run reported the device and not the CVE on it. A run that did not
 *   report the device closes nothing of it, and neither does a run that loaded no CVE data or
 *   whose findings the control plane does not all hold (nothing could be judged, or some is missing);
 * - `router.version_changed`: an inventory whose router version differs from the site's last one
 *   (the first inventory of a site is no change).
 * A finding the distribution patched is no vulnerability: it counts as absent. A failed run
 * moves nothing. Every move is a conditional write in the ingest's transaction, so a replayed
 * report (ingested once), a run repeating an open finding, or a second node finds nothing to move.
 */
import type { Coverage } from '../../shared/report/coverage.js';
import type { CveRecord } from '../../protocol/index.js';

export type ChangeEvent = 'device.new' | 'finding.new' | 'finding.closed' | 'finding.resurfaced' | 'router.version_changed';

export interface ChangeDevice {
  mac: string | null;
  ip: string;
  hostname: string | null;
}

export interface ChangeCve {
  id: string;
  score: number;
  severity: CveRecord['severity'];
}

/** A finished run to compare with its site's state. */
export interface FinishedRun {
  org_id: string;
  site_id: string;
  scan_id: string;
  sub_scan_id: string;
  status: 'completed' | 'failed' | 'stopped';
  coverage: Coverage | undefined;
  /** The control plane holds every finding the agent said it sent. */
  complete: boolean;
  at: string;
}

/** An inventory report's router, to compare with the site's last one. */
export interface RouterSeen {
  org_id: string;
  site_id: string;
  /** The scan of the inventory's run; null for an inventory outside a run (nobody to notify: the state moves alone). */
  scan_id: string | null;
  router: { identity: string; routeros_version: string; board: string | null };
  at: string;
}

/** What a run reported of one device: its CVEs, patched ones left out. */
export interface Observed {
  key: string;
  device: ChangeDevice;
  cves: Map<string, ChangeCve>;
}

/** The key a device's state is kept under at its site. */
export const deviceKeyOf = (host: { mac: string | null; ip: string }): string => host.mac ?? host.ip;

/** Whether the run's report is compared at all, and whether it may close findings. */
export function runJudgement(run: Pick<FinishedRun, 'status' | 'coverage' | 'complete'>): { judge: boolean; close: boolean } {
  if (run.status === 'failed') return { judge: false, close: false };
  // An agent before coverage says nothing about its CVE data: its report is taken as it is.
  const cveDataLoaded = run.coverage === undefined || run.coverage.cve_data !== null;
  return { judge: true, close: cveDataLoaded && run.complete };
}

/**
 * The run's devices and their CVEs from its host rows and findings (a finding's host row carries
 * its device), in key order: the order both engines write, so two nodes never wait on each other crosswise.
 */
export function observe(
  hosts: readonly ChangeDevice[],
  findings: readonly { ip: string; cve_id: string; score: number; severity: CveRecord['severity']; distro_status: string | null }[],
): Observed[] {
  const byIp = new Map<string, Observed>();
  for (const host of hosts) byIp.set(host.ip, { key: deviceKeyOf(host), device: host, cves: new Map() });
  for (const f of findings) {
    const observed = byIp.get(f.ip);
    if (observed === undefined || f.distro_status === 'fixed' || f.distro_status === 'not-affected') continue;
    observed.cves.set(f.cve_id, { id: f.cve_id, score: f.score, severity: f.severity });
  }
  // Two addresses of one MAC in a run are one device: its CVEs are those of both.
  const byKey = new Map<string, Observed>();
  for (const observed of byIp.values()) {
    const same = byKey.get(observed.key);
    if (same === undefined) byKey.set(observed.key, observed);
    else for (const [id, cve] of observed.cves) same.cves.set(id, cve);
  }
  return [...byKey.values()].sort((a, b) => compare(a.key, b.key));
}

export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The `data` of a change alert as stored (the notifier adds the site, scan, origin and report URL). */
const deviceOf = (d: ChangeDevice): ChangeDevice => ({ mac: d.mac, ip: d.ip, hostname: d.hostname });
export const deviceData = (device: ChangeDevice) => ({ device: deviceOf(device) });
export const findingData = (device: ChangeDevice, cve: ChangeCve) => ({
  device: deviceOf(device),
  cve: { id: cve.id, score: cve.score, severity: cve.severity },
});
export const routerData = (seen: RouterSeen, previous: string) => ({
  router: { identity: seen.router.identity, board: seen.router.board },
  previous_version: previous,
  new_version: seen.router.routeros_version,
});

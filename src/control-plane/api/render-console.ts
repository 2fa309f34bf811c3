/** Store rows -> the console read APIs' shapes (shapes.ts). Pure functions, like render.ts. */
import type { z } from 'zod';
import { parseRouterOsVersion } from '../../shared/routeros-version.js';
import { deviceKey } from '../../shared/marks.js';
import type { CveMarkRow, FindingView, HostRow, Occurrence, RouterInventoryRow } from '../store/types.js';
import { fixFirst, indexOccurrences, isPatchedFinding, renderCveInstance } from './render.js';
import type { cveInstance, deviceDetail, scanDelta, siteDetail } from './shapes.js';

type Instance = z.infer<typeof cveInstance>;

/** The site's router and neighbors from the inventory its agent reported last. */
export function renderSiteRouter(inventory: Omit<RouterInventoryRow, 'sub_scan_id'> | undefined): Pick<z.infer<typeof siteDetail>, 'router' | 'neighbors'> {
  if (!inventory) return { router: null, neighbors: [] };
  const { router } = inventory;
  return {
    router: {
      identity: router.identity,
      // The agent reports RouterOS's board name (the routerboard model when it has none) as `board`.
      model: router.board,
      board: router.board,
      routeros_version: router.routeros_version,
      channel: parseRouterOsVersion(router.routeros_version)?.channel ?? null,
      serial: router.serial,
      read_at: inventory.at,
    },
    neighbors: inventory.neighbors.map((n) => ({
      identity: n.identity,
      platform: n.platform,
      version: n.version,
      mac_address: n.mac,
      address: n.ip,
      interface: null,
    })),
  };
}

/**
 * Current findings rendered as CveInstances in fix-first order, what the distribution patched
 * left out (it is not a vulnerability of the device).
 */
export function currentInstances(findings: readonly FindingView[], marks: readonly CveMarkRow[], occurrences: readonly Occurrence[], now: Date): Instance[] {
  const index = indexOccurrences(occurrences);
  return fixFirst(findings.filter((f) => !isPatchedFinding(f)).map((f) => renderCveInstance(f, marks, index, now)));
}

/** One line of the overview's "fix first" list. */
export function fixFirstItem(instance: Instance, siteId: string) {
  return {
    cve_id: instance.cve_id,
    score: instance.score,
    severity: instance.severity,
    mac_address: instance.host.mac_address,
    ip_address: instance.host.ip_address,
    hostname: instance.host.hostname,
    site_id: siteId,
    scan_id: instance.scan_id,
    kev: instance.kev ?? null,
    epss: instance.epss ?? null,
    exposure: instance.exposure ?? null,
    why: instance.why ?? [],
    priority_rank: instance.priority_rank ?? 1,
  };
}

/** What a device page shows of its sightings: addresses over time and the services last seen on each port. */
export function renderSightings(hosts: readonly HostRow[]): Pick<z.infer<typeof deviceDetail>, 'hostnames' | 'site_ids' | 'ips' | 'services' | 'manufacturer'> {
  const ips = new Map<string, { ip_address: string; first_seen_at: string; last_seen_at: string; scans: Set<string> }>();
  const services = new Map<string, { port: number; service: string | null; product: string | null; version: string | null; last_seen_at: string }>();
  // Oldest first: later sightings overwrite what they saw again.
  for (const host of hosts) {
    const ip = ips.get(host.ip) ?? { ip_address: host.ip, first_seen_at: host.created_at, last_seen_at: host.created_at, scans: new Set<string>() };
    ip.last_seen_at = host.created_at;
    ip.scans.add(host.scan_id);
    ips.set(host.ip, ip);
    for (const open of host.open_ports)
      services.set(`${open.port}/${open.protocol}`, {
        port: open.port,
        service: open.service,
        product: open.product,
        version: open.version,
        last_seen_at: host.created_at,
      });
  }
  const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))];
  return {
    manufacturer: hosts.findLast((h) => h.manufacturer !== null)?.manufacturer ?? null,
    hostnames: distinct(hosts.map((h) => h.hostname).reverse()),
    site_ids: distinct(hosts.map((h) => h.site_id).reverse()),
    ips: [...ips.values()].map(({ scans, ...rest }) => ({ ...rest, scans: scans.size })).sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at)),
    services: [...services.values()].sort((a, b) => a.port - b.port),
  };
}

type DeltaItem = z.infer<typeof scanDelta>['new'][number];

const deltaItem = (f: FindingView): DeltaItem => ({
  mac_address: f.host.mac,
  ip_address: f.host.ip,
  hostname: f.host.hostname,
  site_id: f.site_id,
  cve_id: f.cve.id,
  score: f.cve.score,
  severity: f.cve.severity,
});

/** Findings keyed by device (MAC, else site and address) and CVE: new, resolved, and how many stayed. */
export function scanDeltaOf(current: readonly FindingView[], previous: readonly FindingView[]) {
  const keyed = (findings: readonly FindingView[]) => {
    const map = new Map<string, FindingView>();
    for (const f of findings.filter((finding) => !isPatchedFinding(finding)))
      map.set(`${f.host.mac === null ? `${f.site_id}/${deviceKey(f.host)}` : f.host.mac} ${f.cve.id}`, f);
    return map;
  };
  const now = keyed(current);
  const before = keyed(previous);
  const bySeverity = (a: DeltaItem, b: DeltaItem) => b.score - a.score || a.cve_id.localeCompare(b.cve_id) || a.ip_address.localeCompare(b.ip_address);
  return {
    new: [...now]
      .filter(([key]) => !before.has(key))
      .map(([, f]) => deltaItem(f))
      .sort(bySeverity),
    resolved: [...before]
      .filter(([key]) => !now.has(key))
      .map(([, f]) => deltaItem(f))
      .sort(bySeverity),
    unchanged: [...now.keys()].filter((key) => before.has(key)).length,
  };
}

import type { Inventory } from '../../routeros/index.js';
import { inScope, isCanonicalIPv4 } from '../../../shared/ipv4.js';
import type { DeviceJudgement } from '../../../shared/report/coverage.js';
import { parseRouterOsVersion } from '../../../shared/routeros-version.js';
import { serviceCpe } from '../../../cve/services.js';
import { findingsForHost, type CveLookup } from '../cve-findings.js';
import type { HostRecord, ServiceRecord } from '../scan-types.js';
import type { RunContext } from './context.js';
import type { HostWork } from './stage-discovery.js';
import type { RouterView } from './stage-inventory.js';
import { exposureLookup } from '../exposure-facts.js';

const notAsked = 'a targeted scan judges the router and its neighbors only when asked (--with-router, or with_router on scan.ips)';

/**
 * Stage 4: the router and its MikroTik neighbors, judged by the versions the router reported.
 * A site-wide run always judges them, whatever its subnets; a targeted one only when asked
 * (`judge`). No packet goes to them: the versions come from the router's own tables. What could
 * not be judged is noted, with why, for the report's coverage statement.
 */
export function routerStage(
  ctx: RunContext,
  router: RouterView,
  work: HostWork,
  deps: { cve: CveLookup | undefined; routerHost?: string | undefined },
  judge: boolean,
): void {
  const { scan, scans } = ctx;
  if (!judge) {
    const state = router.inventory ? 'read' : (scans.notes(scan.id).router?.state ?? 'not_read');
    scans.addNotes(scan.id, { router: { state, judged: false, reason: notAsked }, devices: [], warnings: [] });
  } else if (router.inventory) {
    const { records, judgements } = routerDevices(router.inventory, scan.subnets, deps.routerHost);
    const { cve } = deps;
    for (const device of records) {
      // The router's own CVEs are exposed through its services; a neighbor's through forwards to it and UPnP.
      const exposure = exposureLookup(router.inventory, device.ip, device.role === 'router');
      const findings = cve ? findingsForHost(device, cve, scan, exposure) : [];
      scans.completeHost(scan, device, findings, ctx.now());
      if (findings.length > 0)
        ctx.event(
          `${device.role === 'router' ? 'Router' : 'Neighbor'} ${device.hostname ?? device.ip} RouterOS ${device.services[0]?.version ?? '?'}: ${findings.length} CVEs`,
          'warning',
        );
    }
    const devices = cve
      ? judgements
      : judgements.map((judgement) => (judgement.judged ? { ...judgement, judged: false, reason: 'no CVE data is loaded' } : judgement));
    const own = devices.find((device) => device.role === 'router');
    const warnings = devices
      .filter((device) => !device.judged)
      .map((device) => `${device.role} ${device.identity ?? device.ip ?? device.mac ?? '?'} not judged: ${device.reason ?? 'unknown'}`);
    for (const warning of warnings) ctx.event(warning, 'warning');
    scans.addNotes(scan.id, { router: { state: 'read', judged: own?.judged ?? false, reason: own?.reason ?? null }, devices, warnings });
    ctx.progress('router', 1, work.total, work.done);
  }
  ctx.lap('router');
}

/**
 * The address the router is reported under: one of its own `/ip address` entries inside the
 * subnets, else the address the agent reached it at (config `router.host`), else its first own
 * address. A router whose LAN address lies outside the scanned subnets (a /28 of a /24, a
 * management VLAN, a point-to-point uplink) is judged all the same: no packet goes to it.
 */
export function routerAddress(inventory: Inventory, subnets: readonly string[], connectedTo: string | undefined): string | null {
  const own = inventory.addresses.map((address) => address.address.split('/')[0] as string).filter(isCanonicalIPv4);
  return own.find((ip) => inScope(ip, subnets)) ?? (connectedTo !== undefined && isCanonicalIPv4(connectedTo) ? connectedTo : undefined) ?? own[0] ?? null;
}

/** The router itself and each RouterOS neighbor as hosts with their RouterOS CPE (judged without a probe), and which could not be. */
export function routerDevices(
  inventory: Inventory,
  subnets: readonly string[],
  connectedTo?: string,
): { records: HostRecord[]; judgements: DeviceJudgement[] } {
  const records: HostRecord[] = [];
  const judgements: DeviceJudgement[] = [];
  const own = routerAddress(inventory, subnets, connectedTo);
  const routerVersion = inventory.router.version;
  const routerRelease = parseRouterOsVersion(routerVersion);
  const routerJudgement = { role: 'router' as const, ip: own, identity: inventory.router.identity, mac: null, version: routerVersion || null };
  if (routerRelease === undefined) {
    judgements.push({ ...routerJudgement, judged: false, reason: `its RouterOS version could not be read (${JSON.stringify(routerVersion)})` });
  } else if (own === null) {
    judgements.push({ ...routerJudgement, judged: false, reason: 'it reported no IPv4 address and the agent reaches it by name' });
  } else {
    judgements.push({ ...routerJudgement, judged: true, reason: null });
    records.push({
      ip: own,
      mac: null,
      hostname: inventory.router.identity,
      manufacturer: 'MikroTik',
      randomized_mac: false,
      role: 'router',
      sources: ['neighbor'],
      found_by: 'router',
      services: [routerService(routerVersion, inventory.router.channel, `/system/resource: version ${routerVersion}`)],
    });
  }
  for (const neighbor of inventory.neighbors) {
    // Only RouterOS neighbors; others are judged by a scan.
    if (neighbor.platform !== 'MikroTik') continue;
    const release = parseRouterOsVersion(neighbor.version ?? undefined);
    const address = neighbor.address !== null && isCanonicalIPv4(neighbor.address) ? neighbor.address : null;
    const judgement = { role: 'neighbor' as const, ip: address, identity: neighbor.identity, mac: neighbor.mac, version: neighbor.version };
    if (release === undefined) {
      judgements.push({
        ...judgement,
        judged: false,
        reason:
          neighbor.version === null
            ? 'the router reported no RouterOS version for it'
            : `its RouterOS version could not be read (${JSON.stringify(neighbor.version)})`,
      });
      continue;
    }
    if (address === null) {
      judgements.push({ ...judgement, judged: false, reason: 'the router reported no IPv4 address for it' });
      continue;
    }
    if (records.some((device) => device.ip === address)) continue;
    judgements.push({ ...judgement, judged: true, reason: null });
    records.push({
      ip: address,
      mac: neighbor.mac,
      hostname: neighbor.identity,
      manufacturer: 'MikroTik',
      randomized_mac: false,
      role: 'neighbor',
      sources: ['neighbor'],
      found_by: 'router',
      services: [
        routerService(
          release.display,
          release.channel ?? null,
          `/ip/neighbor: ${neighbor.identity ?? ''} ${neighbor.platform ?? ''} ${neighbor.version ?? ''}`.trim(),
        ),
      ],
    });
  }
  return { records, judgements };
}

function routerService(version: string, channel: string | null, evidence: string): ServiceRecord {
  return {
    port: null,
    protocol: null,
    service: 'routeros',
    product: 'RouterOS',
    vendor: 'mikrotik',
    version,
    update: null,
    channel,
    distro: null,
    cpe: serviceCpe({ product: 'RouterOS', version, channel: channel ?? undefined }),
    confidence: 90,
    evidence,
  };
}

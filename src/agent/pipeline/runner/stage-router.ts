import type { Inventory } from '../../routeros/index.js';
import { inScope, isCanonicalIPv4 } from '../../../shared/ipv4.js';
import { parseRouterOsVersion } from '../../../shared/routeros-version.js';
import { serviceCpe } from '../../cve/services.js';
import { findingsForHost, type CveLookup } from '../cve-findings.js';
import type { HostRecord, ServiceRecord } from '../scan-types.js';
import type { RunContext } from './context.js';
import type { HostWork } from './stage-discovery.js';
import type { RouterView } from './stage-inventory.js';

/** Stage 4: the router and its MikroTik neighbors, judged by the versions the router reported (a site-wide run only). */
export function routerStage(ctx: RunContext, router: RouterView, work: HostWork, cve: CveLookup | undefined, siteWide: boolean): void {
  const { scan, scans } = ctx;
  if (router.inventory && siteWide) {
    for (const device of routerDevices(router.inventory, scan.subnets)) {
      const findings = cve ? findingsForHost(device, cve, scan) : [];
      scans.completeHost(scan, device, findings, ctx.now());
      if (findings.length > 0)
        ctx.event(
          `${device.role === 'router' ? 'Router' : 'Neighbor'} ${device.hostname ?? device.ip} RouterOS ${device.services[0]?.version ?? '?'}: ${findings.length} CVEs`,
          'warning',
        );
    }
    ctx.progress('router', 1, work.total, work.done);
  }
  ctx.lap('router');
}

/** The router itself and each RouterOS neighbor as hosts with their RouterOS CPE: judged without a probe. */
export function routerDevices(inventory: Inventory, subnets: readonly string[]): HostRecord[] {
  const devices: HostRecord[] = [];
  const own = inventory.addresses.map((address) => address.address.split('/')[0] as string).find((ip) => inScope(ip, subnets));
  const routerVersion = inventory.router.version;
  if (own) {
    devices.push({
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
    // Only RouterOS neighbors with a readable version; others are judged by a scan.
    const release = neighbor.platform === 'MikroTik' ? parseRouterOsVersion(neighbor.version ?? undefined) : undefined;
    if (release === undefined || neighbor.address === null || !isCanonicalIPv4(neighbor.address)) continue;
    if (devices.some((device) => device.ip === neighbor.address)) continue;
    devices.push({
      ip: neighbor.address,
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
  return devices;
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

/**
 * The fix-first site on 127.0.<net>.0/24: a RouterOS 6.40.5 router at .1 with the
 * written-for-simulator exposure menus, a Debian 12 OpenSSH at .2:2222 forwarded from the WAN,
 * an nginx at .3:8080 nobody forwards to. Each test file its own net.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import type { Db } from '../../../src/shared/sqlite.js';
import { loadEpssCsv, loadKevCatalog } from '../../../src/cve/intel.js';
import { readApiCapture, startApiSimulator, type RouterData } from '../../simulators/index.js';
import { startFakeService } from '../../helpers/fake-services.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared/data');

export const fixFirstMacs = (net: number) => ({ ssh: `00:0C:29:${net}:00:02`, web: `B8:27:EB:${net}:00:03` });
export const fixFirstPorts = '2222,8080';

const rows = (file: string) => readApiCapture(file).rows;

/**
 * A RouterOS 6.40.5 router at 127.0.<net>.1 with the written-for-simulator exposure menus: WAN
 * tcp/2222 forwarded to the SSH host (rule *2, retargeted to this test's address and port),
 * winbox accepted from the WAN list, UPnP off (so the web host is not exposed).
 */
export function fixFirstRouter(net: number, withExposureMenus: boolean): RouterData {
  const macs = fixFirstMacs(net);
  const arp = (address: string, mac: string, id: string) => ({
    '.id': id,
    address,
    'mac-address': mac,
    interface: 'bridge',
    dynamic: 'true',
    complete: 'true',
    disabled: 'false',
    invalid: 'false',
    DHCP: 'false',
    published: 'false',
  });
  const exposure = {
    '/ip/firewall/nat': rows('api.ip-firewall-nat-print.v7.written-for-simulator.json').map((row) =>
      row['to-addresses'] === '192.168.88.10' ? { ...row, 'to-addresses': `127.0.${net}.2`, 'to-ports': '2222' } : row,
    ),
    '/ip/firewall/filter': rows('api.ip-firewall-filter-print.v7.written-for-simulator.json'),
    '/ip/service': rows('api.ip-service-print.v7.written-for-simulator.json'),
    '/ip/upnp': rows('api.ip-upnp-print.v7.written-for-simulator.json').map((row) => ({ ...row, enabled: 'false' })),
    '/interface/list/member': rows('api.interface-list-member-print.v7.written-for-simulator.json'),
  };
  return {
    user: 'edge-cve',
    password: 'router-secret',
    console: {},
    menus: {
      '/system/resource': [{ uptime: '3w2d1h', version: '6.40.5 (stable)', 'architecture-name': 'mipsbe', 'board-name': 'RB951Ui-2HnD', platform: 'MikroTik' }],
      '/system/identity': [{ name: 'fix-gw' }],
      '/ip/address': [
        { '.id': '*1', address: `127.0.${net}.1/24`, network: `127.0.${net}.0`, interface: 'bridge', invalid: 'false', dynamic: 'false', disabled: 'false' },
      ],
      '/ip/arp': [arp(`127.0.${net}.2`, macs.ssh, '*1'), arp(`127.0.${net}.3`, macs.web, '*2')],
      '/ip/dhcp-server/lease': [],
      '/interface/bridge/host': [],
      '/ip/neighbor': [],
      '/ipv6/neighbor': [],
      ...(withExposureMenus ? exposure : {}),
    },
  };
}

/** The router simulator and the two banner services; returns the router's API port. */
export async function startFixFirstSite(net: number, withExposureMenus = true): Promise<{ routerPort: number }> {
  const router = await startApiSimulator({ data: fixFirstRouter(net, withExposureMenus), host: `127.0.${net}.1` });
  onTestFinished(() => router.stop());
  // A Debian 12 build: the tracker says CVE-2024-6387 is fixed in this revision, CVE-2023-38408 is not.
  await startFakeService({ host: `127.0.${net}.2`, port: 2222, greeting: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' });
  await startFakeService({ host: `127.0.${net}.3`, port: 8080, httpServer: 'nginx/1.13.2' });
  return { routerPort: router.port };
}

/** The real CISA KEV catalog and the EPSS snapshot, loaded with cve/intel.ts's loaders. */
export function loadRealIntel(db: Db): void {
  loadKevCatalog(db, readFileSync(path.join(shared, 'kev/known_exploited_vulnerabilities.json'), 'utf8'));
  loadEpssCsv(db, readFileSync(path.join(shared, 'epss/epss_scores-2024-01-13.subset.csv'), 'utf8'));
}

import type { RouterData } from '../../simulators/index.js';

export const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
export const subnet = '127.0.30.0/24';
export const macs = { ssh: '00:0C:29:11:22:33', web: 'B8:27:EB:44:55:66', ftp: '52:54:00:77:88:99', neighbor: '48:A9:8A:01:02:03' } as const;

/** A site router in RouterOS 6.40.5: its ARP and DHCP tables name the loopback hosts of the test, a 6.45.1 neighbor sits next to it. */
export function siteRouter(): RouterData {
  return {
    user: 'edge-cve',
    password: 'router-secret',
    console: {},
    menus: {
      '/system/resource': [
        {
          uptime: '3w2d1h',
          version: '6.40.5 (stable)',
          'architecture-name': 'mipsbe',
          'board-name': 'RB951Ui-2HnD',
          platform: 'MikroTik',
          cpu: 'MIPS 24Kc V7.4',
        },
      ],
      '/system/identity': [{ name: 'site-gw' }],
      '/system/routerboard': [{ routerboard: 'true', model: '951Ui-2HnD', 'serial-number': '55E1042C9A2B', 'current-firmware': '6.40.5' }],
      '/ip/address': [
        {
          '.id': '*1',
          address: '127.0.30.1/24',
          network: '127.0.30.0',
          interface: 'bridge-lan',
          'actual-interface': 'bridge-lan',
          invalid: 'false',
          dynamic: 'false',
          disabled: 'false',
        },
      ],
      '/ip/arp': [
        {
          '.id': '*1',
          address: '127.0.30.2',
          'mac-address': macs.ssh,
          interface: 'bridge-lan',
          dynamic: 'true',
          complete: 'true',
          disabled: 'false',
          invalid: 'false',
          DHCP: 'true',
          published: 'false',
        },
        {
          '.id': '*2',
          address: '127.0.30.3',
          'mac-address': macs.web,
          interface: 'bridge-lan',
          dynamic: 'true',
          complete: 'true',
          disabled: 'false',
          invalid: 'false',
          DHCP: 'true',
          published: 'false',
        },
        {
          '.id': '*3',
          address: '127.0.30.4',
          'mac-address': macs.ftp,
          interface: 'bridge-lan',
          dynamic: 'true',
          complete: 'true',
          disabled: 'false',
          invalid: 'false',
          DHCP: 'false',
          published: 'false',
        },
      ],
      '/ip/dhcp-server/lease': [
        {
          '.id': '*1',
          address: '127.0.30.2',
          'mac-address': macs.ssh,
          'host-name': 'build-box',
          server: 'dhcp1',
          status: 'bound',
          'last-seen': '1m2s',
          dynamic: 'true',
          disabled: 'false',
          blocked: 'false',
          radius: 'false',
        },
        {
          '.id': '*2',
          address: '127.0.30.3',
          'mac-address': macs.web,
          'host-name': 'camera-web',
          server: 'dhcp1',
          status: 'bound',
          'last-seen': '10s',
          dynamic: 'true',
          disabled: 'false',
          blocked: 'false',
          radius: 'false',
        },
      ],
      '/interface/bridge/host': [],
      '/ip/neighbor': [
        {
          '.id': '*1',
          interface: 'ether2',
          address: '127.0.30.9',
          address4: '127.0.30.9',
          'mac-address': macs.neighbor,
          identity: 'ap-roof',
          platform: 'MikroTik',
          version: '6.45.1 (stable)',
          board: 'RBwAPG-5HacT2HnD',
          age: '20s',
          uptime: '1w2d3h',
        },
      ],
      '/ipv6/neighbor': [],
    },
  };
}

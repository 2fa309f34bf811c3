import { describe, expect, it } from 'vitest';
import { rowsFromConsole } from '../../../src/agent/routeros/ssh/console-menus.js';
import type { MenuName, Row } from '../../../src/agent/routeros/tables.js';
import { consoleCaptureFiles, readConsoleCapture } from '../../simulators/captures.js';

/**
 * Every console capture in shared/data/routeros, parsed as a live router would send it (CRLF)
 * and as stored (LF), against what a person reads in the file.
 */
interface Expectation {
  menu: MenuName;
  rows: number;
  /** Row index -> properties that must be exactly these. */
  check: Record<number, Row>;
  /** Properties no row may have (e.g. a log line's words). */
  absent?: string[];
}

const expected: Record<string, Expectation> = {
  'ssh.interface-bridge-host-print-terse.txt': {
    menu: 'bridgeHosts',
    rows: 8,
    check: {
      0: { 'mac-address': '11:22:33:44:55:01', interface: 'ether4', bridge: 'lan-bridge', dynamic: 'true', external: 'true', local: 'false' },
      2: { 'mac-address': '11:22:33:44:55:03', local: 'true', external: 'true', dynamic: 'true' },
      5: { comment: 'test comment', 'mac-address': '11:22:33:44:55:06', invalid: 'true', dynamic: 'false' },
      7: { 'mac-address': '11:22:33:44:55:08', vid: '123', disabled: 'true', invalid: 'true' },
    },
  },
  'ssh.ip-arp-print-terse.v6.txt': {
    menu: 'arp',
    rows: 2,
    check: {
      0: { address: '10.160.1.230', 'mac-address': '12:34:56:78:90:AA', interface: 'ether2_BOX', published: 'no', dynamic: 'true', complete: 'true' },
      1: { address: '10.152.1.230', 'mac-address': '12:34:56:78:90:AB', interface: 'ether5_KFCcisco', dynamic: 'false', complete: 'false' },
    },
  },
  'ssh.ip-arp-print-without-paging.v6-log-echo.txt': {
    menu: 'arp',
    rows: 2,
    check: {
      0: { address: '185.163.212.158', interface: 'dmz-1-vlan', dynamic: 'true' },
      1: { address: '185.163.212.159', 'mac-address': 'AF:D6:C8:F2:36:16', interface: 'vlan-2' },
    },
    absent: ['echo:'],
  },
  'ssh.ip-arp-print-without-paging.v7.txt': {
    menu: 'arp',
    rows: 2,
    check: {
      0: { address: '192.168.1.10', 'mac-address': '50:50:40:40:2E:C1', interface: 'bridge-lan', status: 'stale', dynamic: 'true', complete: 'true' },
      // This row is one column left of the header in the capture: placement is by nearest column.
      1: { address: '192.168.1.11', 'mac-address': 'C7:50:40:40:2A:C1', interface: 'bridge-lan', status: 'reachable', dynamic: 'true', complete: 'false' },
    },
  },
  'ssh.ip-arp-print.v6.txt': {
    menu: 'arp',
    rows: 5,
    check: {
      2: { address: '10.152.1.231', 'mac-address': '12:34:56:78:90:AC' },
      3: { address: '10.152.1.232', interface: 'ether4' },
      4: { address: '10.152.1.233', dynamic: 'true', complete: 'true' },
    },
  },
  'ssh.ip-dhcp-server-lease-print-terse.a.txt': {
    menu: 'leases',
    rows: 2,
    check: {
      0: { address: '192.168.69.254', 'address-lists': '', status: 'conflict', 'src-mac-address': '12:34:56:78:90:AB', dynamic: 'true' },
      1: { 'mac-address': '30:07:4D:F5:07:49', 'client-id': '1:30:7:4d:f5:7:49', 'host-name': 'Galaxy-S8', status: 'bound', 'last-seen': '1m5s' },
    },
  },
  'ssh.ip-dhcp-server-lease-print-terse.b.txt': {
    menu: 'leases',
    rows: 5,
    check: {
      0: { comment: 'UniFi1', 'host-name': 'Unifi3B', 'active-address': '10.164.1.199', 'dhcp-option': 'unifi' },
      3: { 'address-lists': '', 'dhcp-option': '', age: '2h11m23s', dynamic: 'true' },
      4: { 'class-id': 'udhcp 1.37.0', 'active-server': 'dhcp1', 'mac-address': 'AA:C1:AB:E3:F5:E8' },
    },
  },
  'ssh.ip-dhcp-server-lease-print.v6.txt': {
    menu: 'leases',
    rows: 4,
    check: {
      0: { address: '192.168.60.254', server: '*1', status: 'bound', 'last-seen': '35w13h13m15s' },
      1: { address: '192.168.61.254', 'host-name': 'MikroTik', server: 'DHCPv4_Server', status: 'waiting', disabled: 'true' },
      3: { 'mac-address': '12:34:56:78:90:AB', 'host-name': 'MikroTik', dynamic: 'true' },
    },
  },
  'ssh.ip-dhcp-server-lease-print.v7.txt': {
    menu: 'leases',
    rows: 2,
    check: {
      1: {
        address: '10.0.1.99',
        'mac-address': 'DE:6E:70:C0:CC:B2',
        'host-name': 'raspberrypi',
        server: 'Clients',
        status: 'bound',
        'last-seen': '2m48s',
        dynamic: 'true',
      },
    },
  },
  // Written for the simulator (exposure menus), not device captures.
  'ssh.ip-firewall-nat-print-terse.v6.written-for-simulator.txt': {
    menu: 'nat',
    rows: 4,
    check: {
      1: {
        comment: 'ssh to nas',
        chain: 'dstnat',
        action: 'dst-nat',
        'to-addresses': '192.168.88.10',
        'to-ports': '22',
        'in-interface-list': 'WAN',
        'dst-port': '2222',
        disabled: 'false',
      },
      2: { 'in-interface': 'ether1', disabled: 'true' },
    },
  },
  'ssh.ip-service-print-terse.v6.written-for-simulator.txt': {
    menu: 'services',
    rows: 8,
    check: {
      0: { name: 'telnet', port: '23', address: '', disabled: 'true' },
      2: { name: 'www', address: '192.168.88.0/24' },
      6: { name: 'winbox', port: '8291', disabled: 'false' },
    },
  },
  'ssh.ip-neighbor-print-detail-without-paging.ansible.txt': {
    menu: 'neighbors',
    rows: 4,
    check: {
      // Its continuation lines are joined: system-caps-enabled sat on the third line.
      2: {
        identity: 'router3',
        version: '6.40.8 (bugfix)',
        board: 'RB960PGS',
        'system-caps': '',
        'system-caps-enabled': '',
        'mac-address': 'B8:69:F4:37:F0:C8',
      },
      3: { 'system-description': 'MikroTik RouterOS 6.42.2 (stable) RBSXTLTE3-7', address: '10.37.129.6' },
    },
  },
  'ssh.ip-neighbor-print-detail.line-wrap.txt': {
    menu: 'neighbors',
    rows: 3,
    check: {
      0: { interface: 'ether2,bridge_local', identity: 'CLEAR', version: '6.49.14 (stable)' },
      1: { identity: 'Device_1', version: '7.15.1 (stable) 2024-06-07 12:49:11', 'system-caps-enabled': 'router', address: '1.2.4.5' },
      2: { identity: 'Device-2', version: '6.43.14 (long-term)', ipv6: 'no' },
    },
  },
  'ssh.ip-neighbor-print-detail.v6.txt': {
    menu: 'neighbors',
    rows: 1,
    check: {
      0: { identity: 'MikroTik-Dev', platform: 'MikroTik', version: '6.48.6 (long-term)', 'system-caps-enabled': 'bridge,wlan-ap,router', unpack: 'none' },
    },
  },
  'ssh.ip-neighbor-print-detail.v7-ipv6.txt': {
    menu: 'neighbors',
    rows: 1,
    check: { 0: { address6: '2001:0db8:11a3:09d7:1f34:8a2e:07a0:765d', board: 'RB450Gx4', 'software-id': 'AAAA-BBBB' } },
  },
  'ssh.ipv6-neighbor-print-without-paging.txt': {
    menu: 'ipv6Neighbors',
    rows: 4,
    check: {
      2: { address: 'fe80::d7:4cff:fec1:2e32', 'mac-address': '00:0C:42:28:79:45', status: 'stale', router: 'true' },
      3: { address: '2a05:c100:1d::351c', status: 'failed', router: 'false' },
    },
  },
  'ssh.system-identity-print-without-paging.ansible.txt': { menu: 'identity', rows: 1, check: { 0: { name: 'MikroTik' } } },
  'ssh.system-identity-print.txt': { menu: 'identity', rows: 1, check: { 0: { name: 'Mikrotik-Device_Name' } } },
  'ssh.system-resource-print-without-paging.ansible.txt': {
    menu: 'resource',
    rows: 1,
    check: { 0: { version: '6.42.5 (stable)', 'board-name': 'x86', 'architecture-name': 'x86' } },
  },
  'ssh.system-resource-print.1.txt': {
    menu: 'resource',
    rows: 1,
    check: { 0: { version: '6.48.6 (long-term)', 'board-name': 'hEX PoE lite', cpu: 'MIPS 24Kc V7.4' } },
  },
  'ssh.system-resource-print.2.txt': { menu: 'resource', rows: 1, check: { 0: { version: '6.48.7 (long-term)', 'factory-software': '6.44.6' } } },
  // Its first line is indented with tabs.
  'ssh.system-resource-print.3.txt': {
    menu: 'resource',
    rows: 1,
    check: { 0: { uptime: '5w3d20m51s', version: '7.12.2 (stable)', 'board-name': 'CHR', 'architecture-name': 'x86_64' } },
  },
  'ssh.system-resource-print.4.txt': {
    menu: 'resource',
    rows: 1,
    check: { 0: { version: '7.12.2 (stable)', 'board-name': 'CCR2004-1G-12S+2XS' } },
    absent: ['cpu-frequency'],
  },
  'ssh.system-resource-print.ros5-with-prompt.ansible.txt': {
    menu: 'resource',
    rows: 1,
    check: { 0: { version: '5.0rc1', cpu: 'e500v2', 'board-name': 'RB1100', platform: 'MikroTik' } },
  },
  'ssh.system-routerboard-print-without-paging.ansible.txt': {
    menu: 'routerboard',
    rows: 1,
    check: { 0: { routerboard: 'yes', model: 'RouterBOARD 3011UiAS', 'current-firmware': '3.41' } },
  },
  'ssh.system-routerboard-print.1.txt': { menu: 'routerboard', rows: 1, check: { 0: { 'board-name': 'hEX', model: 'RB750Gr3', 'current-firmware': '6.49' } } },
  // Starts with a ";;; Firmware upgraded successfully" note.
  'ssh.system-routerboard-print.2.txt': {
    menu: 'routerboard',
    rows: 1,
    check: { 0: { 'board-name': 'hAP ac^3', model: 'RBD53iG-5HacD2HnD', 'upgrade-firmware': '7.5' } },
  },
  'ssh.system-routerboard-print.3.txt': { menu: 'routerboard', rows: 1, check: { 0: { model: 'RouterBOARD 750UP r2', 'serial-number': '8B0208F4D5F9' } } },
};

describe('console parsers against every capture', () => {
  it('has an expectation for every ssh capture in the fixtures', () => {
    expect(Object.keys(expected).sort()).toEqual(consoleCaptureFiles());
  });

  for (const file of consoleCaptureFiles()) {
    for (const lineEnd of ['\n', '\r\n'] as const) {
      it(`${file} (${lineEnd === '\n' ? 'LF' : 'CRLF'})`, () => {
        const want = expected[file];
        if (want === undefined) throw new Error(`no expectation for ${file}`);
        const { text } = readConsoleCapture(file);
        const rows = rowsFromConsole(want.menu, text.replace(/\n/g, lineEnd));
        expect(rows).toHaveLength(want.rows);
        for (const [index, props] of Object.entries(want.check)) expect(rows[Number(index)], `row ${index}`).toMatchObject(props);
        for (const row of rows) {
          for (const [key, value] of Object.entries(row)) {
            expect(value, key).not.toMatch(/\r/);
            for (const word of want.absent ?? []) {
              expect(key).not.toBe(word);
              expect(value).not.toContain(word);
            }
          }
        }
      });
    }
  }
});

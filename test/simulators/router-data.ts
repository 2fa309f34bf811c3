import { apiCaptureFiles, consoleCaptureFiles, readApiCapture, readConsoleCapture } from './captures.js';

export type Row = Record<string, string>;

/** What a simulated router knows: API menus as wire rows, and optional verbatim console outputs. */
export interface RouterData {
  user: string;
  password: string;
  /** Keyed by API menu (`/ip/arp`); a missing menu answers `no such command prefix`. */
  menus: Record<string, Row[]>;
  /** Verbatim console output per exact CLI command; other commands are rendered from `menus`. */
  console: Record<string, string>;
}

/** The menus the agent reads, in the order it reads them. */
export const routerMenus = [
  '/system/resource',
  '/system/identity',
  '/system/routerboard',
  '/ip/address',
  '/ip/arp',
  '/ip/dhcp-server/lease',
  '/interface/bridge/host',
  '/ip/neighbor',
  '/ipv6/neighbor',
  '/ip/firewall/nat',
  '/ip/firewall/filter',
  '/ip/service',
  '/ip/upnp',
  '/interface/list/member',
] as const;

export interface CaptureChoice {
  /** Which capture file to use for a menu or command that has several (file name). */
  prefer?: readonly string[];
  user?: string;
  password?: string;
}

const defaultPreferred = [
  'api.system-resource-print.v7.4-ccr2004.napalm-ros.json',
  'api.ip-neighbor-print.with-parent.napalm-ros.json',
  'ssh.system-resource-print-without-paging.ansible.txt',
  'ssh.ip-dhcp-server-lease-print-terse.b.txt',
];

/**
 * A router made of the real captures: API menus from the api/rest JSON files, console outputs
 * from the ssh files keyed by their command. /ip/address has no capture and is generated to
 * match the ARP capture's network.
 */
export function routerFromCaptures(choice: CaptureChoice = {}): RouterData {
  const preferred = new Set(choice.prefer ?? defaultPreferred);
  const menus: Record<string, Row[]> = {};
  const menuSource: Record<string, string> = {};
  for (const file of apiCaptureFiles()) {
    const capture = readApiCapture(file);
    const current = menuSource[capture.menu];
    if (current === undefined || (preferred.has(file) && !preferred.has(current))) {
      menus[capture.menu] = capture.rows;
      menuSource[capture.menu] = file;
    }
  }
  menus['/ip/address'] = [
    {
      '.id': '*1',
      address: '192.168.56.10/24',
      network: '192.168.56.0',
      interface: 'ether1',
      'actual-interface': 'ether1',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    },
  ];
  const consoleOutputs: Record<string, string> = {};
  const consoleSource: Record<string, string> = {};
  for (const file of consoleCaptureFiles()) {
    const capture = readConsoleCapture(file);
    const current = consoleSource[capture.command];
    if (current === undefined || (preferred.has(file) && !preferred.has(current))) {
      consoleOutputs[capture.command] = capture.text;
      consoleSource[capture.command] = file;
    }
  }
  return { user: choice.user ?? 'admin', password: choice.password ?? 'secret', menus, console: consoleOutputs };
}

export interface GeneratedSize {
  arp: number;
  leases: number;
  neighbors: number;
  bridgeHosts?: number;
  ipv6Neighbors?: number;
  /** RouterOS version line of the simulated router, e.g. `7.16.2 (stable)`. */
  version?: string;
  user?: string;
  password?: string;
}

/** A deterministic MAC: the index in the low bytes, a fixed OUI (MikroTik's 4C:5E:0C) or a randomized prefix. */
function mac(prefix: readonly number[], index: number): string {
  const bytes = [...prefix, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function ipv4(base: number, index: number): string {
  const value = base + index;
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

const vendorPrefixes = [
  [0x4c, 0x5e, 0x0c], // Routerboard.com
  [0x00, 0x50, 0x56], // VMware
  [0xb8, 0x27, 0xeb], // Raspberry Pi Foundation
  [0xda, 0xa1, 0x19], // locally administered: a phone's private address
] as const;

/**
 * Tables of a big site for benchmarks and load tests: ARP and leases share MACs so the merge
 * has real work to do, every fourth host uses a randomized MAC, neighbors are MikroTik devices
 * on a spread of versions and channels.
 */
export function generateRouterData(size: GeneratedSize): RouterData {
  const base = (10 << 24) >>> 0;
  const arp: Row[] = [];
  for (let i = 0; i < size.arp; i++) {
    arp.push({
      '.id': `*${(i + 1).toString(16).toUpperCase()}`,
      address: ipv4(base, i + 10),
      'mac-address': mac(vendorPrefixes[i % 4] ?? [], i),
      interface: `bridge-lan`,
      published: 'false',
      invalid: 'false',
      DHCP: i % 2 === 0 ? 'true' : 'false',
      dynamic: 'true',
      complete: 'true',
      disabled: 'false',
      status: 'reachable',
    });
  }
  const leases: Row[] = [];
  for (let i = 0; i < size.leases; i++) {
    leases.push({
      '.id': `*${(i + 1).toString(16).toUpperCase()}`,
      address: ipv4(base, i + 10),
      'mac-address': mac(vendorPrefixes[i % 4] ?? [], i),
      'client-id': `1:${mac(vendorPrefixes[i % 4] ?? [], i).toLowerCase()}`,
      'host-name': `host-${i}`,
      server: 'dhcp1',
      status: i % 10 === 0 ? 'waiting' : 'bound',
      'last-seen': `${(i % 59) + 1}m${i % 60}s`,
      dynamic: 'true',
      disabled: 'false',
      blocked: 'false',
      radius: 'false',
    });
  }
  const channels = ['stable', 'long-term', 'testing', 'stable'];
  const neighbors: Row[] = [];
  for (let i = 0; i < size.neighbors; i++) {
    const channel = channels[i % channels.length] ?? 'stable';
    neighbors.push({
      '.id': `*${(i + 1).toString(16).toUpperCase()}`,
      interface: 'ether2,bridge-lan',
      address: ipv4(base + 0x10000, i + 2),
      address4: ipv4(base + 0x10000, i + 2),
      'mac-address': mac([0x48, 0xa9, 0x8a], i),
      identity: `ap-${i}`,
      platform: 'MikroTik',
      version: `${6 + (i % 2)}.${40 + (i % 9)}.${i % 5} (${channel})`,
      unpack: 'none',
      age: `${i % 60}s`,
      uptime: '1w2d3h',
      'software-id': 'ABCD-1234',
      board: 'RBwAPG-5HacT2HnD',
      'interface-name': 'ether1',
      'system-caps': 'bridge,router',
      'system-caps-enabled': 'router',
    });
  }
  const bridgeHosts: Row[] = [];
  for (let i = 0; i < (size.bridgeHosts ?? Math.min(size.arp, 1000)); i++) {
    bridgeHosts.push({
      '.id': `*${(i + 1).toString(16).toUpperCase()}`,
      'mac-address': mac(vendorPrefixes[i % 4] ?? [], i),
      interface: `ether${(i % 8) + 2}`,
      bridge: 'bridge-lan',
      'on-interface': `ether${(i % 8) + 2}`,
      age: `${i % 300}s`,
      local: 'false',
      external: 'false',
      invalid: 'false',
      dynamic: 'true',
      disabled: 'false',
    });
  }
  const ipv6Neighbors: Row[] = [];
  for (let i = 0; i < (size.ipv6Neighbors ?? 0); i++) {
    ipv6Neighbors.push({
      '.id': `*${i + 1}`,
      address: `fe80::${i.toString(16)}`,
      interface: 'bridge-lan',
      'mac-address': mac(vendorPrefixes[i % 4] ?? [], i),
      status: 'stale',
      router: 'false',
    });
  }
  return {
    user: size.user ?? 'admin',
    password: size.password ?? 'secret',
    menus: {
      '/system/resource': [
        {
          uptime: '3w2d1h',
          version: size.version ?? '7.16.2 (stable)',
          'build-time': '2024-11-26 12:13:22',
          'free-memory': '1000000000',
          'total-memory': '1073741824',
          cpu: 'ARM64',
          'cpu-count': '4',
          'cpu-load': '3',
          'architecture-name': 'arm64',
          'board-name': 'CCR2004-16G-2S+',
          platform: 'MikroTik',
        },
      ],
      '/system/identity': [{ name: 'site-gw' }],
      '/system/routerboard': [
        {
          routerboard: 'true',
          'board-name': 'CCR2004-16G-2S+',
          model: 'CCR2004-16G-2S+',
          'serial-number': 'HD0123456',
          'firmware-type': 'al2',
          'factory-firmware': '7.0.4',
          'current-firmware': '7.16.2',
          'upgrade-firmware': '7.16.2',
        },
      ],
      '/ip/address': [
        {
          '.id': '*1',
          address: '10.0.0.1/16',
          network: '10.0.0.0',
          interface: 'bridge-lan',
          'actual-interface': 'bridge-lan',
          invalid: 'false',
          dynamic: 'false',
          disabled: 'false',
        },
        {
          '.id': '*2',
          address: '10.1.0.1/16',
          network: '10.1.0.0',
          interface: 'ether2',
          'actual-interface': 'ether2',
          invalid: 'false',
          dynamic: 'false',
          disabled: 'false',
        },
      ],
      '/ip/arp': arp,
      '/ip/dhcp-server/lease': leases,
      '/interface/bridge/host': bridgeHosts,
      '/ip/neighbor': neighbors,
      '/ipv6/neighbor': ipv6Neighbors,
    },
    console: {},
  };
}

/**
 * The data with the router's CPU load set (percent): in `/system/resource` (`cpu-load`, a bare
 * number as the API gives it) and in every verbatim console output of it (`cpu-load: 85%`).
 */
export function withCpuLoad(data: RouterData, percent: number): RouterData {
  const resource = data.menus['/system/resource'] ?? [{}];
  const console = Object.fromEntries(Object.entries(data.console).map(([command, text]) => [command, text.replace(/^(\s*cpu-load: )\d+%/m, `$1${percent}%`)]));
  return { ...data, console, menus: { ...data.menus, '/system/resource': resource.map((row) => ({ ...row, 'cpu-load': String(percent) })) } };
}

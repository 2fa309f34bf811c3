// bench:pipeline — one scheduled scan of a /22 of loopback (127.0.40.0/22) by the built agent,
// as a separate process: a simulated router with 1,000 ARP entries, the real Debian daemons of
// the test lab plus small servers with vulnerable banners (30 services in all). Prints the wall
// time per stage, findings written per second, and the agent's peak RSS, next to the aims
// (peak RSS under 200 MB; CVE matching and storage under 10 % of the total).
// Run: npm run bench:pipeline   (loopback only)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBannerServer } from '../test/simulators/banner-server.js';
import { startLab } from '../test/lab/lab.js';
import { startApiSimulator, type RouterData, type Row } from '../test/simulators/index.js';

const prefix = '127.0.40';
const subnet = `${prefix}.0/22`;
const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const scheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';

function arpTable(count: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const ip = `127.0.${40 + Math.floor((i + 2) / 256)}.${(i + 2) % 256}`;
    const mac = ['00', '0C', '29', (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
      .map((b) => (typeof b === 'number' ? b.toString(16).padStart(2, '0') : b).toUpperCase())
      .join(':');
    rows.push({
      '.id': `*${i + 1}`,
      address: ip,
      'mac-address': mac,
      interface: 'bridge-lan',
      dynamic: 'true',
      complete: 'true',
      disabled: 'false',
      invalid: 'false',
      DHCP: 'false',
      published: 'false',
    });
  }
  return rows;
}

const router: RouterData = {
  user: 'edge-cve',
  password: 'bench',
  console: {},
  menus: {
    '/system/resource': [{ uptime: '1w', version: '6.40.5 (stable)', 'architecture-name': 'mipsbe', 'board-name': 'RB951Ui-2HnD', platform: 'MikroTik' }],
    '/system/identity': [{ name: 'bench-gw' }],
    '/system/routerboard': [{ routerboard: 'true', model: '951Ui-2HnD' }],
    '/ip/address': [
      { '.id': '*1', address: `${prefix}.1/22`, network: `${prefix}.0`, interface: 'bridge-lan', invalid: 'false', dynamic: 'false', disabled: 'false' },
    ],
    '/ip/arp': arpTable(1000),
    '/ip/dhcp-server/lease': [],
    '/interface/bridge/host': [],
    '/ip/neighbor': [
      {
        '.id': '*1',
        interface: 'ether2',
        address: `${prefix}.250`,
        address4: `${prefix}.250`,
        'mac-address': '48:A9:8A:01:02:03',
        identity: 'ap-1',
        platform: 'MikroTik',
        version: '6.45.1 (stable)',
      },
    ],
    '/ipv6/neighbor': [],
  },
};

const banners = [
  ['SSH-2.0-OpenSSH_7.4\r\n', 'ssh'],
  ['SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n', 'ssh'],
  ['220 ProFTPD 1.3.5 Server (Debian)\r\n', 'ftp'],
  ['220 (vsFTPd 2.3.4)\r\n', 'ftp'],
  ['nginx/1.13.2', 'http'],
  ['Apache/2.4.49 (Unix)', 'http'],
  ['lighttpd/1.4.45', 'http'],
] as const;

async function main() {
  const sim = await startApiSimulator({ data: router });
  const lab = await startLab({ prefix: `${prefix}` }).catch((error: unknown) => {
    console.error(`lab not started (${String(error)}); using banner servers only`);
    return undefined;
  });
  const fakes = [];
  const labCount = lab?.services.reduce((sum, service) => sum + service.ports.filter((p) => p.protocol === 'tcp').length, 0) ?? 0;
  for (let i = 0; fakes.length + labCount < 30; i++) {
    const [banner, kind] = banners[i % banners.length]!;
    const host = `127.0.41.${10 + i}`;
    fakes.push(
      await startBannerServer({
        host,
        port: kind === 'ssh' ? 22 : kind === 'ftp' ? 21 : 80,
        ...(kind === 'http' ? { httpServer: banner } : { greeting: banner }),
      }),
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-pipeline-'));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      site_id: siteId,
      state_dir: path.join(dir, 'state'),
      log_level: 'warn',
      subnets: [subnet],
      router: { host: '127.0.0.1', port: sim.port, user: 'edge-cve', password: 'bench' },
      schedules: [{ id: scheduleId, description: 'bench', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, min_cvss: 0, warning_threshold: 7 }],
    }),
  );
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/cli/cve-agent.js', '--config', config, '--json', 'scan', '--schedule', scheduleId], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // The process has exited.
    }
  }, 50);
  await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  const wall = performance.now() - started;
  const report = JSON.parse(out) as { status: string; summary: { hosts_scanned: number; cve_count: number }; events: { message: string }[] };
  const stages = report.events.map((e) => e.message).find((m) => m.startsWith('Stages:')) ?? '';
  const ms = (name: string) => Number(new RegExp(`${name} (\\d+) ms`).exec(stages)?.[1] ?? NaN);
  const t = {
    inventory: ms('inventory'),
    discovery: ms('discovery'),
    hosts: ms('hosts'),
    cve: ms('CVE matching'),
    storage: ms('storage'),
    router: ms('router and neighbors'),
  };
  const total = t.inventory + t.discovery + t.hosts + t.router;
  console.log(
    `bench:pipeline  node ${process.version}; ${subnet} (1022 addresses), router with 1000 ARP entries, ${labCount} lab + ${fakes.length} banner services; scan ${report.status}`,
  );
  console.log(`hosts stored ${report.summary.hosts_scanned}, findings ${report.summary.cve_count}`);
  console.log('stage                     ms     share');
  for (const [name, value] of Object.entries({
    'router inventory': t.inventory,
    discovery: t.discovery,
    'hosts (ports+services)': t.hosts - t.cve - t.storage,
    '  CVE matching': t.cve,
    '  storage': t.storage,
    'router and neighbors': t.router,
  })) {
    console.log(`${name.padEnd(24)}${value.toFixed(0).padStart(6)}  ${((value / total) * 100).toFixed(1).padStart(5)} %`);
  }
  console.log(`${'total (agent)'.padEnd(24)}${total.toFixed(0).padStart(6)}   process wall ${(wall / 1000).toFixed(2)} s`);
  const share = (t.cve + t.storage) / total;
  console.log(
    `findings written per second of storage: ${(report.summary.cve_count / (t.storage / 1000)).toFixed(0)}; per second of scan: ${(report.summary.cve_count / (total / 1000)).toFixed(1)}`,
  );
  console.log(`peak RSS ${(peakKb / 1024).toFixed(1)} MB; aim 200 MB; ratio ${(peakKb / 1024 / 200).toFixed(2)}`);
  console.log(`CVE matching + storage ${(share * 100).toFixed(1)} % of the total; aim under 10 %; ratio ${(share / 0.1).toFixed(2)}`);
  for (const fake of fakes) await fake.close();
  await lab?.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();

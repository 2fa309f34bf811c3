/**
 * `npm run demo`: the whole system on loopback in under a minute, leaving nothing running.
 * A control plane (temp SQLite), one site agent dialing it over WebSocket, the RouterOS API
 * simulator as the site's router and a few services that answer with vulnerable-looking
 * banners. A schedule is created through the REST API with a JWT minted here, invoked, its
 * status polled every 2 s until it ends, and the report printed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import pino from 'pino';
import { createAgent } from '../src/agent/agent.js';
import { buildConfig as buildAgentConfig } from '../src/agent/config/load.js';
import { createSdNotifier } from '../src/agent/sd-notify.js';
import { buildConfig as buildControlPlaneConfig } from '../src/control-plane/config/load.js';
import { generateSiteToken, hashSiteToken } from '../src/control-plane/hub/tokens.js';
import { createControlPlane } from '../src/control-plane/main.js';
import { openSqliteStore } from '../src/control-plane/store/sqlite/index.js';
import { openCveDatabase } from '../src/agent/cve/cve-database.js';
import { loadEpssCsv, loadKevCatalog } from '../src/cve/intel.js';
import { startBannerServer, type FakeService } from '../test/simulators/banner-server.js';
import { readApiCapture, startApiSimulator } from '../test/simulators/index.js';
import { siteRouter } from '../test/integration/pipeline/site-router.js';

const NET = '127.0.40';
const ORG = 'demo-org';
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);
const cleanups: [string, () => unknown][] = [];
/** The real CISA KEV catalog and FIRST EPSS snapshot beside the project, when it is there (the test suite's data). */
const SHARED_DATA = path.resolve(import.meta.dirname, '../../shared/data');

interface Facts {
  distro?: { distro: string; status: string; fixed_version: string | null; ref: string };
  kev?: { date_added: string; ransomware: boolean } | null;
  epss?: { score: number } | null;
  exposure?: { state: string };
  why?: string[];
  priority_rank?: number;
}

interface ScanDetail {
  status: string;
  progress: number;
  events: { time: string; message: string }[];
}

interface Report {
  scan: { status: string; hosts_scanned: number; cve_count: number; highest_score: number | null; runtime: string };
  hosts: {
    ip_address: string;
    mac_address: string | null;
    hostname: string | null;
    manufacturer: string | null;
    open_ports: { port: number; service: string | null; product: string | null; version: string | null }[];
  }[];
  cves: ({
    cve_id: string;
    score: number;
    severity: string;
    host: { ip_address: string; mac_address: string | null };
    port: number | null;
    cpe: string;
  } & Facts)[];
  warnings: { cve_id: string; score: number; host: { ip_address: string; mac_address: string | null } }[];
  patched?: ({ cve_id: string; host: { ip_address: string } } & Facts)[];
  warning_threshold: number;
}

/**
 * The site's router with the exposure menus of the simulator's written-for-it captures: WAN
 * tcp/2222 forwarded to the build box's SSH (rule *2, retargeted), winbox open to the WAN list,
 * UPnP off.
 */
function demoRouter(): ReturnType<typeof siteRouter> {
  const router = JSON.parse(JSON.stringify(siteRouter()).replaceAll('127.0.30.', `${NET}.`)) as ReturnType<typeof siteRouter>;
  const rows = (file: string) => readApiCapture(`api.${file}.v7.written-for-simulator.json`).rows;
  router.menus['/ip/firewall/nat'] = rows('ip-firewall-nat-print').map((row) =>
    row['to-addresses'] === '192.168.88.10' ? { ...row, 'to-addresses': `${NET}.2`, 'to-ports': '2222' } : row,
  );
  router.menus['/ip/firewall/filter'] = rows('ip-firewall-filter-print');
  router.menus['/ip/service'] = rows('ip-service-print');
  router.menus['/ip/upnp'] = rows('ip-upnp-print').map((row) => ({ ...row, enabled: 'false' }));
  router.menus['/interface/list/member'] = rows('interface-list-member-print');
  return router;
}

/** KEV and EPSS into the agent's cve.db before it starts, as its feed would bring them. */
function loadIntel(stateDir: string, logger: pino.Logger): string {
  const kevFile = path.join(SHARED_DATA, 'kev/known_exploited_vulnerabilities.json');
  const epssFile = path.join(SHARED_DATA, 'epss/epss_scores-2024-01-13.subset.csv');
  if (!existsSync(kevFile) || !existsSync(epssFile)) return 'no KEV/EPSS data beside the project: findings show none';
  const cve = openCveDatabase({ stateDir, logger, loadStarterFeed: true });
  try {
    const kev = loadKevCatalog(cve.db, readFileSync(kevFile, 'utf8'));
    const epss = loadEpssCsv(cve.db, readFileSync(epssFile, 'utf8'));
    return `${kev} KEV entries and ${epss} EPSS scores (2024-01-13) loaded into the agent's cve.db`;
  } finally {
    cve.close();
  }
}

/** Records the scan-finished webhook, so the demo shows the notification too. */
async function startWebhookReceiver(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(`${String((JSON.parse(body) as { event?: string }).event)} (X-Signature ${String(request.headers['x-signature']).slice(0, 20)}...)`);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(['webhook receiver', () => new Promise((resolve) => server.close(resolve))]);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-demo-'));
  cleanups.push(['temp dir', () => rmSync(dir, { recursive: true, force: true })]);
  const logger = pino({ level: process.env.DEMO_LOG ?? 'silent' });
  const secret = randomBytes(32).toString('hex');

  const webhook = await startWebhookReceiver();
  const { config: cpConfig } = buildControlPlaneConfig(
    {
      state_dir: path.join(dir, 'control-plane'),
      listen: { host: '127.0.0.1', port: 0 },
      auth: { hs256_secret: secret },
      notification_groups: { 'security-alerts': { secret: 'demo-webhook-secret', webhooks: [webhook.url] } },
    },
    undefined,
    { env: {} },
  );
  const store = openSqliteStore({ stateDir: cpConfig.state_dir, logger });
  const cp = createControlPlane({ config: cpConfig, store, clock: { now: () => new Date() }, logger });
  await cp.start();
  cleanups.push([
    'control plane',
    async () => {
      await cp.stop();
      await store.close();
    },
  ]);
  say(`control plane listening on ${cp.url()} (REST and the agents' WebSocket hub)`);

  const siteId = randomUUID();
  const token = generateSiteToken();
  const now = new Date().toISOString();
  await store.sites.create({
    id: siteId,
    org_id: ORG,
    name: 'demo-site',
    created_at: now,
    token_rotated_at: now,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(token),
  });
  say(`site ${siteId} registered with a hashed agent token`);

  const router = await startApiSimulator({ data: demoRouter() });
  cleanups.push(['router simulator', () => router.stop()]);
  const services: FakeService[] = [
    // A Debian 12 build: its tracker says which of OpenSSH 9.2p1's CVEs this revision has patched.
    await startBannerServer({ host: `${NET}.2`, port: 2222, greeting: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' }),
    await startBannerServer({ host: `${NET}.3`, port: 8080, httpServer: 'nginx/1.13.2' }),
    await startBannerServer({ host: `${NET}.4`, port: 2121, greeting: `220 ProFTPD 1.3.5 Server (ProFTPD Default Installation) [${NET}.4]\r\n` }),
  ];
  cleanups.push(['banner services', () => Promise.all(services.map((service) => service.close()))]);
  say(
    `RouterOS API simulator on 127.0.0.1:${router.port} (RouterOS 6.40.5, winbox open to WAN, WAN tcp/2222 forwarded to ${NET}.2); OpenSSH 9.2p1 Debian-2+deb12u3, nginx 1.13.2, ProFTPD 1.3.5 on ${NET}.2-4`,
  );

  const { config: agentConfig } = buildAgentConfig(
    {
      site_id: siteId,
      subnets: [`${NET}.0/24`],
      router: { host: '127.0.0.1', port: router.port, user: 'edge-cve', password: 'router-secret' },
      scan: { ports: '2222,8080,2121', udp: false },
      control_plane: { url: cp.url().replace(/^http/, 'ws'), token },
    },
    undefined,
    { env: {}, dataDir: path.join(dir, 'agent') },
  );
  say(loadIntel(agentConfig.state_dir, logger));
  const agent = createAgent({ config: agentConfig, logger, notifier: createSdNotifier({ env: {}, logger }) });
  await agent.start();
  cleanups.unshift(['agent', () => agent.stop()]);
  for (let i = 0; i < 100 && !agent.uplink?.connected; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  say(`agent started; uplink ${agent.uplink?.connected ? 'connected' : 'NOT connected'}`);

  const jwt = await new SignJWT({ org: ORG, scope: 'cve:view cve:create cve:update cve:delete' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('demo')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${cp.url()}${url}`, {
      method,
      headers: { authorization: `Bearer ${jwt}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };

  const schedule = await api<{ id: string; next_scan_at: string }>('POST', '/scans/cve/scheduled', {
    description: 'Demo: every other Sunday 02:30, Sydney time',
    day_of_week: 0,
    time_of_day: '02:30',
    every_n_weeks: 2,
    timezone: 'Australia/Sydney',
    min_cvss: 4,
    warning_threshold: 7,
    ignore_offline_sites: false,
    sites: [{ id: siteId, subnet: `${NET}.0/24` }],
    notification_group: 'security-alerts',
  });
  say(`POST /scans/cve/scheduled -> schedule ${schedule.id}, next scan ${schedule.next_scan_at}`);
  const { scan_id: scanId } = await api<{ scan_id: string }>('POST', `/scans/cve/scheduled/${schedule.id}/invoke`);
  say(`POST /scans/cve/scheduled/${schedule.id}/invoke -> scan ${scanId}`);

  let detail: ScanDetail;
  let shown = 0;
  for (;;) {
    detail = await api<ScanDetail>('GET', `/scans/cve/${scanId}`);
    const fresh = detail.events.slice(shown);
    shown = detail.events.length;
    say(
      `GET /scans/cve/${scanId.slice(0, 8)}... -> ${detail.status} ${detail.progress}%${fresh.length > 0 ? `: ${fresh.map((event) => event.message).join(' | ')}` : ''}`,
    );
    if (['completed', 'partial', 'failed'].includes(detail.status)) break;
    if (performance.now() - started > 50_000) throw new Error('the scan did not finish within 50 s');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const status = await api<{ targets: string[]; scanned: string[]; failed: string[] }>('GET', `/scans/cve/${schedule.id}/status`);
  say(
    `GET /scans/cve/${schedule.id.slice(0, 8)}.../status -> targets ${status.targets.length}, scanned ${status.scanned.length}, failed ${status.failed.length}`,
  );
  printReport(await api<Report>('GET', `/scans/cve/${scanId}/report.json`));
  for (let i = 0; i < 40 && webhook.received.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  say(`webhook: ${webhook.received.join(', ') || 'none received'}`);
  return detail.status === 'completed' ? 0 : 1;
}

function printReport(report: Report): void {
  console.log(
    `\nReport: ${report.scan.status}, ${report.scan.hosts_scanned} hosts scanned, ${report.scan.cve_count} CVEs, highest score ${report.scan.highest_score ?? '-'}, runtime ${report.scan.runtime}`,
  );
  console.log('\nHosts');
  // On loopback every address of the /24 answers the sweep; the ones worth a line are those the router knows or that run something.
  const notable = report.hosts.filter((host) => host.mac_address !== null || host.hostname !== null || host.open_ports.length > 0);
  for (const host of notable) {
    const ports = host.open_ports.map((p) => `${p.port}/${[p.product, p.version].filter(Boolean).join(' ') || p.service || '?'}`).join(', ');
    console.log(
      `  ${host.ip_address.padEnd(13)} ${(host.mac_address ?? '(no MAC)').padEnd(17)}  ${(host.hostname ?? '').padEnd(11)} ${(host.manufacturer ?? '').slice(0, 24).padEnd(24)} ${ports}`.trimEnd(),
    );
  }
  console.log(`  (${report.hosts.length - notable.length} more addresses answered the sweep with no open port and no MAC)`);
  printVerdicts(report, notable);
  console.log('\nCVEs');
  const cves = [...report.cves].sort((a, b) => b.score - a.score || a.cve_id.localeCompare(b.cve_id));
  for (const cve of cves.slice(0, 25)) {
    console.log(
      `  ${cve.cve_id.padEnd(16)} ${cve.score.toFixed(1).padStart(4)} ${cve.severity.padEnd(8)} ${cve.host.ip_address.padEnd(13)} ${cve.host.mac_address ?? ''}  ${cve.cpe}`,
    );
  }
  if (cves.length > 25) console.log(`  ... and ${cves.length - 25} more`);
  console.log(`\nWarnings (score >= ${report.warning_threshold}): ${report.warnings.length}`);
  for (const warning of report.warnings.slice(0, 10))
    console.log(`  ${warning.cve_id} ${warning.score.toFixed(1)} on ${warning.host.mac_address ?? warning.host.ip_address}`);
  console.log('');
}

/** Per host: vulnerabilities, what the distribution patched, KEV, exposure and the first to fix; then the fix-first list with why. */
function printVerdicts(report: Report, hosts: Report['hosts']): void {
  const patched = report.patched ?? [];
  console.log('\nVerdicts by host (patched by the distribution: listed, not counted)');
  console.log(`  ${'HOST'.padEnd(13)} ${'CVES'.padStart(4)} ${'PATCHED'.padStart(7)} ${'KEV'.padStart(3)} ${'EXPOSED'.padStart(7)}  FIX FIRST`);
  for (const host of hosts) {
    const mine = report.cves.filter((cve) => cve.host.ip_address === host.ip_address);
    const fixed = patched.filter((cve) => cve.host.ip_address === host.ip_address);
    if (mine.length === 0 && fixed.length === 0) continue;
    const first = mine.reduce<(typeof mine)[number] | undefined>(
      (best, cve) => (best === undefined || (cve.priority_rank ?? 0) < (best.priority_rank ?? 0) ? cve : best),
      undefined,
    );
    console.log(
      `  ${host.ip_address.padEnd(13)} ${String(mine.length).padStart(4)} ${String(fixed.length).padStart(7)} ${String(mine.filter((cve) => cve.kev).length).padStart(3)} ${String(mine.filter((cve) => cve.exposure?.state === 'yes').length).padStart(7)}  ${first ? `#${first.priority_rank} ${first.cve_id}` : '-'}`,
    );
  }
  for (const cve of patched) {
    const name = cve.distro?.distro === 'ubuntu' ? 'Ubuntu' : 'Debian';
    const how = cve.distro?.status === 'not-affected' ? `not affected in ${name}` : `patched by ${name} in ${cve.distro?.fixed_version ?? '?'}`;
    console.log(`  ${cve.host.ip_address.padEnd(13)} ${cve.cve_id.padEnd(16)} ${how} (${cve.distro?.ref ?? '?'})`);
  }
  console.log('\nFix first (exposed and known-exploited, then EPSS, then CVSS; top 8)');
  for (const cve of report.cves.slice(0, 8)) {
    console.log(
      `  ${String(cve.priority_rank ?? '-').padStart(2)} ${cve.cve_id.padEnd(16)} ${cve.score.toFixed(1).padStart(4)} ${cve.host.ip_address.padEnd(13)} ${(cve.why ?? []).join('; ')}`,
    );
  }
}

async function cleanup(): Promise<boolean> {
  let clean = true;
  // The agent first (it dials the control plane), then the rest, each even if another failed.
  for (const [name, stop] of cleanups) {
    try {
      await stop();
    } catch (error) {
      clean = false;
      console.error(`stopping the ${name} failed: ${(error as Error).message}`);
    }
  }
  return clean;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
} finally {
  if (!(await cleanup())) code = 1;
  say(`everything stopped; exit ${code}`);
}
process.exitCode = code;

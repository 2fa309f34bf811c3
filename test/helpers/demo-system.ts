/**
 * The whole system on loopback, as `npm run demo` and the browser tests run it: a control plane
 * (temp SQLite), one site agent dialing it over WebSocket, the RouterOS API simulator as the
 * site's router and three services answering with vulnerable-looking banners. One module so the
 * demo and the tests drive the same system instead of two copies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import pino from 'pino';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import { buildConfig as buildAgentConfig } from '../../src/agent/config/load.js';
import { openCveDatabase } from '../../src/agent/cve/cve-database.js';
import { createSdNotifier } from '../../src/shared/sd-notify.js';
import { buildConfig as buildControlPlaneConfig } from '../../src/control-plane/config/load.js';
import { newOperatorSchema, operatorRow } from '../../src/control-plane/console/operators.js';
import { generateSiteToken, hashSiteToken } from '../../src/control-plane/hub/tokens.js';
import { createControlPlane, type ControlPlane } from '../../src/control-plane/main.js';
import { openSqliteStore } from '../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore, OperatorRole } from '../../src/control-plane/store/types.js';
import { loadEpssCsv, loadKevCatalog } from '../../src/cve/intel.js';
import { startBannerServer, type FakeService } from '../simulators/banner-server.js';
import { readApiCapture, startApiSimulator, type RunningApiSimulator } from '../simulators/index.js';
import { siteRouter } from '../integration/pipeline/site-router.js';
import { startDemoFeeds } from './demo-feeds.js';

/** The real CISA KEV catalog and FIRST EPSS snapshot beside the project, when it is there (the test suite's data). */
const SHARED_DATA = path.resolve(import.meta.dirname, '../../../shared/data');
export const OPERATOR_SCOPES = 'cve:view cve:create cve:update cve:delete';

type Loopback = `127.${number}.${number}.${number}`;

export interface DemoSystemOptions {
  /** The first three octets of the site's /24 (the banner services sit on .2-.4), e.g. "127.0.40". */
  net: string;
  /** Where the control plane, the router simulator and the webhook receiver listen (default 127.0.0.1). */
  bindHost?: Loopback;
  org?: string;
  logger?: pino.Logger;
  /** Progress lines, as the demo prints them. */
  say?: (line: string) => void;
  /** Extra control-plane settings (merged over the demo's). */
  config?: Record<string, unknown>;
  /** Extra agent settings (merged over the demo's), e.g. `watch`. */
  agentConfig?: Record<string, unknown>;
  /** Extra agent dependencies, e.g. the watch's hooks. */
  agentDeps?: Partial<Parameters<typeof createAgent>[0]>;
}

export interface DemoSystem {
  cp: ControlPlane;
  store: ControlPlaneStore;
  /** The control plane's base URL, e.g. http://127.0.0.1:41234 (the console is at `/`). */
  url: string;
  org: string;
  siteId: string;
  net: string;
  dir: string;
  /** `received`: the scan.* lines the demo prints; `events`: every delivery, change alerts too. */
  webhook: { url: string; received: string[]; events: { event: string; data: Record<string, unknown> }[] };
  agent: Agent;
  /** The site's router (the RouterOS API simulator): tests change its tables. */
  router: RunningApiSimulator;
  /** A JWT for the control plane's HS256 secret (default: the demo org with every operator scope). */
  jwt(claims?: { org?: string; scope?: string; sub?: string }): Promise<string>;
  /** A REST call with a bearer JWT; throws on a non-2xx answer. */
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  /** Registers a site (no agent behind it) in any organization. */
  addSite(org: string, name: string): Promise<string>;
  /** Stores a console operator (a real scrypt hash), as `cve-control-plane operators add` does; default org: the demo's. */
  addOperator(operator: { email: string; role: OperatorRole; password: string; org?: string }): Promise<void>;
  /** Stops everything in reverse order, each part even if another failed; false when a part failed. */
  stop(): Promise<boolean>;
}

/**
 * The site's router with the exposure menus of the simulator's written-for-it captures: WAN
 * tcp/2222 forwarded to the build box's SSH (rule *2, retargeted), winbox open to the WAN list,
 * UPnP off.
 */
export function demoRouter(net: string): ReturnType<typeof siteRouter> {
  const router = JSON.parse(JSON.stringify(siteRouter()).replaceAll('127.0.30.', `${net}.`)) as ReturnType<typeof siteRouter>;
  const rows = (file: string) => readApiCapture(`api.${file}.v7.written-for-simulator.json`).rows;
  router.menus['/ip/firewall/nat'] = rows('ip-firewall-nat-print').map((row) =>
    row['to-addresses'] === '192.168.88.10' ? { ...row, 'to-addresses': `${net}.2`, 'to-ports': '2222' } : row,
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

/**
 * Records the scan-finished webhook, so the demo shows the notification too. The change alerts of
 * the demo's first scan (a device.new and a finding.new for everything it found) are answered and left out.
 */
async function startWebhookReceiver(host: string): Promise<DemoSystem['webhook'] & { close(): Promise<void> }> {
  const received: string[] = [];
  const events: DemoSystem['webhook']['events'] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const delivery = JSON.parse(body) as { event?: string; data?: Record<string, unknown> };
      const event = String(delivery.event);
      events.push({ event, data: delivery.data ?? {} });
      if (event.startsWith('scan.')) received.push(`${event} (X-Signature ${String(request.headers['x-signature']).slice(0, 20)}...)`);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as { port: number }).port}/hook`,
    received,
    events,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function registerSite(store: ControlPlaneStore, org: string, name: string): Promise<{ id: string; token: string }> {
  const id = randomUUID();
  const token = generateSiteToken();
  const now = new Date().toISOString();
  await store.sites.create({
    id,
    org_id: org,
    name,
    created_at: now,
    token_rotated_at: now,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(token),
  });
  return { id, token };
}

export async function startDemoSystem(options: DemoSystemOptions): Promise<DemoSystem> {
  const { net, bindHost = '127.0.0.1', org = 'demo-org', say = () => {} } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const cleanups: [string, () => unknown][] = [];
  const stop = async (): Promise<boolean> => {
    let clean = true;
    // The agent first (it dials the control plane), then the rest, each even if another failed.
    for (const [name, part] of cleanups.splice(0)) {
      try {
        await part();
      } catch (error) {
        clean = false;
        console.error(`stopping the ${name} failed: ${(error as Error).message}`);
      }
    }
    return clean;
  };
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-demo-'));
    cleanups.push(['temp dir', () => rmSync(dir, { recursive: true, force: true })]);
    const secret = randomBytes(32).toString('hex');
    const webhook = await startWebhookReceiver(bindHost);
    cleanups.unshift(['webhook receiver', () => webhook.close()]);
    // The feed hub's upstreams on the site's own block (.1; the services are .2-.4).
    const feedSims = await startDemoFeeds(`${net}.1`);
    cleanups.unshift(['feed simulators', () => feedSims.close()]);
    const { config: cpConfig } = buildControlPlaneConfig(
      {
        feeds: feedSims.config,
        state_dir: path.join(dir, 'control-plane'),
        listen: { host: bindHost, port: 0 },
        auth: { hs256_secret: secret },
        notification_groups: { 'security-alerts': { secret: 'demo-webhook-secret', webhooks: [webhook.url] } },
        ...options.config,
      },
      undefined,
      { env: {} },
    );
    const store = openSqliteStore({ stateDir: cpConfig.state_dir, logger });
    const cp = createControlPlane({ config: cpConfig, store, clock: { now: () => new Date() }, logger });
    cleanups.unshift(['store', () => store.close()]);
    await cp.start();
    cleanups.unshift(['control plane', () => cp.stop()]);
    say(`control plane listening on ${cp.url()} (REST and the agents' WebSocket hub)`);
    say(await feedSims.runAll(cp));

    const site = await registerSite(store, org, 'demo-site');
    say(`site ${site.id} registered with a hashed agent token`);

    const router = await startApiSimulator({ host: bindHost, data: demoRouter(net) });
    cleanups.unshift(['router simulator', () => router.stop()]);
    const services: FakeService[] = [];
    cleanups.unshift(['banner services', () => Promise.all(services.map((service) => service.close()))]);
    // A Debian 12 build: its tracker says which of OpenSSH 9.2p1's CVEs this revision has patched.
    services.push(await startBannerServer({ host: `${net}.2`, port: 2222, greeting: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' }));
    services.push(await startBannerServer({ host: `${net}.3`, port: 8080, httpServer: 'nginx/1.13.2' }));
    services.push(
      await startBannerServer({ host: `${net}.4`, port: 2121, greeting: `220 ProFTPD 1.3.5 Server (ProFTPD Default Installation) [${net}.4]\r\n` }),
    );
    say(
      `RouterOS API simulator on ${bindHost}:${router.port} (RouterOS 6.40.5, winbox open to WAN, WAN tcp/2222 forwarded to ${net}.2); OpenSSH 9.2p1 Debian-2+deb12u3, nginx 1.13.2, ProFTPD 1.3.5 on ${net}.2-4`,
    );

    const { config: agentConfig } = buildAgentConfig(
      {
        site_id: site.id,
        subnets: [`${net}.0/24`],
        router: { host: bindHost, port: router.port, user: 'edge-cve', password: 'router-secret' },
        scan: { ports: '2222,8080,2121', udp: false },
        control_plane: { url: cp.url().replace(/^http/, 'ws'), token: site.token },
        ...options.agentConfig,
      },
      undefined,
      { env: {}, dataDir: path.join(dir, 'agent') },
    );
    say(loadIntel(agentConfig.state_dir, logger));
    const agent = createAgent({ config: agentConfig, logger, notifier: createSdNotifier({ env: {}, logger }), ...options.agentDeps });
    await agent.start();
    cleanups.unshift(['agent', () => agent.stop()]);
    for (let i = 0; i < 100 && !agent.uplink?.connected; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    say(`agent started; uplink ${agent.uplink?.connected ? 'connected' : 'NOT connected'}`);

    const jwt: DemoSystem['jwt'] = (claims = {}) =>
      new SignJWT({ org: claims.org ?? org, scope: claims.scope ?? OPERATOR_SCOPES })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.sub ?? 'demo')
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(new TextEncoder().encode(secret));
    const bearer = await jwt();
    const api: DemoSystem['api'] = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${cp.url()}${url}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${text}`);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    };
    return {
      cp,
      store,
      url: cp.url(),
      org,
      siteId: site.id,
      net,
      dir,
      webhook,
      agent,
      router,
      jwt,
      api,
      addSite: async (siteOrg, name) => (await registerSite(store, siteOrg, name)).id,
      async addOperator({ email, role, password, org: operatorOrg = org }) {
        const input = newOperatorSchema.parse({ email, name: email.split('@')[0] ?? email, role, password });
        if (!(await store.operators.create(await operatorRow(operatorOrg, input, new Date().toISOString())))) throw new Error(`operator ${email} exists`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

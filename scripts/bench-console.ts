// bench:console — BENCH_SCANS (200) scans in progress at once, each driven by a simulated agent
// through the real hub of a real control plane (the built CLI, its own process), and one console
// subscriber on /console/live. Each agent event carries the wall-clock time the agent reported it;
// the delay runs from there to the subscriber, which bounds the delay from ingest from above (it
// also holds the agent's uplink and the hub's group commit). Two passes, a fresh control plane
// each: a WebSocket client (every event), then a real console page in Debian's chromium on one
// scan's page (its events until they are in the DOM; every event until it reaches the page's
// socket). Prints p50/p95/max beside the 1 s the console promises. Loopback only (BENCH_HOST).
// Run: npm run bench:console
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import pino from 'pino';
import { generateSiteToken, hashSiteToken } from '../src/control-plane/hub/tokens.js';
import { openSqliteStore } from '../src/control-plane/store/sqlite/index.js';
import { openLive, type LiveFrame } from '../test/helpers/live-client.js';
import { openConsolePage } from './bench-console-page.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const HOST = process.env.BENCH_HOST ?? '127.0.81.10';
const SCANS = Number(process.env.BENCH_SCANS ?? 200);
const STEPS = Number(process.env.BENCH_STEPS ?? 30);
const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 500);
const FINDING_EVERY = 3;
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const REFERENCE_MS = 1000;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const children: ChildProcess[] = [];
const dirs: string[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What a subscriber saw, read once the run is over. */
interface Subscriber {
  /** Delays (ms) from the agent's report of an event to the subscriber. */
  results(): Promise<Record<string, number[]>>;
  close(): Promise<void>;
}

interface ControlPlane {
  url: string;
  dir: string;
  config: string;
  sites: { id: string; token: string }[];
  stop(): Promise<void>;
}

async function startControlPlane(): Promise<ControlPlane> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-console-'));
  dirs.push(dir);
  // Sites and their tokens, written as `cve-control-plane sites add` does.
  const store = openSqliteStore({ stateDir: dir, logger: pino({ level: 'silent' }), ingestThread: false });
  const sites: { id: string; token: string }[] = [];
  const now = new Date().toISOString();
  for (let i = 0; i < SCANS; i += 1) {
    const site = { id: crypto.randomUUID(), token: generateSiteToken() };
    const row = { id: site.id, org_id: 'bench', name: `site-${i}`, created_at: now, token_rotated_at: now, last_seen_at: null, agent_version: null };
    await store.sites.create({ ...row, token_hash: hashSiteToken(site.token) });
    sites.push(site);
  }
  await store.close();
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, HOST, () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const url = `http://${HOST}:${port}`;
  const config = path.join(dir, 'control-plane.yaml');
  writeFileSync(
    config,
    `state_dir: ${dir}\nlog_level: warn\nlisten: {host: ${HOST}, port: ${port}}\nauth: {hs256_secret: ${SECRET}}\n` +
      `notification_groups: {bench: {secret: s, webhooks: ['http://${HOST}:1/none']}}\nnotifications: {max_attempts: 1}\n` +
      // The bench measures the API, not the limiter: one client address sends every request.
      `rate_limit: {per_address_per_minute: 1000000, per_token_per_minute: 1000000}\n`,
  );
  const cp = spawn(process.execPath, [path.join(root, 'dist/cli/cve-control-plane.js'), '--config', config, 'serve'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(cp);
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 100) throw new Error('control plane did not start');
    }
    await sleep(100);
  }
  return {
    url,
    dir,
    config,
    sites,
    async stop() {
      cp.kill('SIGTERM');
      if (cp.exitCode === null) await new Promise((resolve) => cp.on('exit', resolve));
    },
  };
}

const bearer = () =>
  new SignJWT({ org: 'bench', scope: 'cve:view' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

/** A WebSocket client on /console/live: times every agent event. */
async function wsSubscriber(url: string): Promise<Subscriber> {
  const page = await openLive(url, { headers: { authorization: `Bearer ${await bearer()}` } });
  const delays: number[] = [];
  page.ws.on('message', (data) => {
    const received = Date.now();
    const message = JSON.parse(data.toString()) as LiveFrame;
    const reported = message.type === 'event' ? /reported (\d+)$/.exec(message.message as string) : null;
    if (reported) delays.push(received - Number(reported[1]));
  });
  return { results: async () => ({ 'agent report -> ws client (every event)': delays }), close: () => page.close() };
}

async function pass(kind: 'ws' | 'page') {
  const cp = await startControlPlane();
  const counts = new Map<string, number>();
  let completed = 0;
  // A counting client besides the measured subscriber: when every scan's completion reached it, the run is over.
  const counter = await openLive(cp.url, { headers: { authorization: `Bearer ${await bearer()}` } });
  counter.ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as LiveFrame;
    counts.set(message.type, (counts.get(message.type) ?? 0) + 1);
    if (message.type === 'scan' && message.status === 'completed') completed += 1;
  });

  const planFile = path.join(cp.dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify({ url: cp.url, sites: cp.sites, steps: STEPS, tickMs: TICK_MS, findingEvery: FINDING_EVERY }));
  const agents = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench-console-agents.ts'), planFile], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(agents);
  const phases: string[] = [];
  const phase = (name: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (phases.includes(name)) resolve();
        else if (agents.exitCode !== null) reject(new Error(`the agents process exited (${agents.exitCode}) before ${name}`));
        else return;
        clearInterval(timer);
      }, 50);
    });
  createInterface({ input: agents.stdout as NodeJS.ReadableStream }).on('line', (line) => phases.push((JSON.parse(line) as { event: string }).event));
  await phase('ready');

  // Every scan exists now: the page opens one of them before the steps begin.
  const subscriber = kind === 'ws' ? await wsSubscriber(cp.url) : await openConsolePage(cp);
  const started = Date.now();
  agents.stdin?.write('go\n');
  await phase('done');
  for (let i = 0; completed < SCANS && i < 100; i += 1) await sleep(100);
  const results = await subscriber.results();
  await subscriber.close();
  await counter.close();
  await cp.stop();
  return { results, counts, completed, seconds: (Date.now() - started) / 1000 };
}

const row = (name: string, values: string[]) => console.log(`${name.padEnd(52)}${values.map((v) => v.padStart(9)).join('')}`);
console.log(
  `bench:console  node ${process.version}, ${SCANS} scans in progress at once (one simulated agent each, through the hub), ` +
    `${STEPS} steps of ${TICK_MS} ms (progress + event each, a finding every ${FINDING_EVERY}), one subscriber; reference ${REFERENCE_MS} ms`,
);
row('delay', ['samples', 'p50', 'p95', 'max', 'ref']);
let failed = false;
// BENCH_PASSES=ws skips the browser.
for (const kind of (process.env.BENCH_PASSES ?? 'ws,page').split(',') as ('ws' | 'page')[]) {
  const { results, counts, completed, seconds } = await pass(kind);
  for (const [name, delays] of Object.entries(results)) {
    delays.sort((a, b) => a - b);
    const ms = (value: number | undefined) => `${(value ?? Number.NaN).toFixed(0)} ms`;
    row(name, [String(delays.length), ms(pct(delays, 50)), ms(pct(delays, 95)), ms(delays.at(-1)), `${REFERENCE_MS} ms`]);
    // Every event timed: all of them at a socket, the open scan's in the DOM.
    if (delays.length !== (name.includes('DOM') ? STEPS : SCANS * STEPS)) failed = true;
  }
  console.log(
    `  ${kind} pass: ${seconds.toFixed(1)} s; live messages ${[...counts].map(([type, n]) => `${type} ${n}`).join(', ')}; scans completed ${completed} of ${SCANS}`,
  );
  if (completed !== SCANS || counts.get('event') !== SCANS * STEPS) failed = true;
}
if (failed) process.exitCode = 1;

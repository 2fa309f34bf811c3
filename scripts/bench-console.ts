// bench:console — BENCH_SCANS (200) scans in progress at once, each driven by a simulated agent
// through the real hub of a real control plane (the built CLI, its own process), and one console
// subscriber on /console/live. Each agent event carries the wall-clock time the agent reported it;
// the delay is measured from there to the subscriber (a WebSocket client), which bounds the delay
// from ingest from above: it also holds the agent's uplink and the hub's group commit. Prints
// p50/p95/max beside the 1 s the console promises. Loopback only (BENCH_HOST, 127.0.81.10).
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

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const HOST = process.env.BENCH_HOST ?? '127.0.81.10';
const SCANS = Number(process.env.BENCH_SCANS ?? 200);
const STEPS = Number(process.env.BENCH_STEPS ?? 30);
const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 500);
const FINDING_EVERY = 3;
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const REFERENCE_MS = 1000;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const dir = mkdtempSync(path.join(tmpdir(), 'bench-console-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// Sites and their tokens, written as `cve-control-plane sites add` does.
const store = openSqliteStore({ stateDir: dir, logger: pino({ level: 'silent' }), ingestThread: false });
const sites: { id: string; token: string }[] = [];
const now = new Date().toISOString();
for (let i = 0; i < SCANS; i += 1) {
  const site = { id: crypto.randomUUID(), token: generateSiteToken() };
  await store.sites.create({
    id: site.id,
    org_id: 'bench',
    name: `site-${i}`,
    created_at: now,
    token_rotated_at: now,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(site.token),
  });
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
    `notification_groups: {bench: {secret: s, webhooks: ['http://${HOST}:1/none']}}\nnotifications: {max_attempts: 1}\n`,
);
const cp = spawn(process.execPath, [path.join(root, 'dist/cli/cve-control-plane.js'), '--config', config, 'serve'], { stdio: ['ignore', 'ignore', 'inherit'] });
children.push(cp);
for (let i = 0; ; i += 1) {
  try {
    if ((await fetch(`${url}/healthz`)).ok) break;
  } catch {
    if (i > 100) throw new Error('control plane did not start');
  }
  await sleep(100);
}

const token = await new SignJWT({ org: 'bench', scope: 'cve:view' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(SECRET));

/** The subscriber: one WebSocket client, timing every agent event from its report to its arrival. */
const page = await openLive(url, { headers: { authorization: `Bearer ${token}` } });
const delays: number[] = [];
const counts = new Map<string, number>();
let completed = 0;
page.ws.on('message', (data) => {
  const received = Date.now();
  const message = JSON.parse(data.toString()) as LiveFrame;
  counts.set(message.type, (counts.get(message.type) ?? 0) + 1);
  if (message.type === 'scan' && message.status === 'completed') completed += 1;
  const reported = message.type === 'event' ? /reported (\d+)$/.exec(message.message as string) : null;
  if (reported) delays.push(received - Number(reported[1]));
});

// The agents, in a process of their own.
const planFile = path.join(dir, 'plan.json');
writeFileSync(planFile, JSON.stringify({ url, sites, steps: STEPS, tickMs: TICK_MS, findingEvery: FINDING_EVERY }));
const agents = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench-console-agents.ts'), planFile], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(agents);
const phases: Record<string, unknown>[] = [];
createInterface({ input: agents.stdout as NodeJS.ReadableStream }).on('line', (line) => phases.push(JSON.parse(line) as Record<string, unknown>));
const agentsExit = new Promise<number | null>((resolve) => agents.on('exit', resolve));
const wallStart = Date.now();
const code = await agentsExit;
if (code !== 0) throw new Error(`the agents process exited with ${code}: ${JSON.stringify(phases)}`);
// The last batches' messages are under way: wait until every scan's completion arrived.
for (let i = 0; completed < SCANS && i < 100; i += 1) await sleep(100);
await page.close();
cp.kill('SIGTERM');
await new Promise((resolve) => cp.on('exit', resolve));

delays.sort((a, b) => a - b);
const expectedEvents = SCANS * STEPS;
const row = (name: string, value: string, reference: string) => console.log(`${name.padEnd(40)}${value.padStart(12)}  ${reference}`);
console.log(
  `bench:console  node ${process.version}, ${SCANS} scans in progress at once (one agent each through the hub), ${STEPS} steps of ${TICK_MS} ms ` +
    `(progress + event each, a finding every ${FINDING_EVERY}), one subscriber (ws client)`,
);
row('agent report -> subscriber', 'measured', 'reference');
row('  p50', `${pct(delays, 50).toFixed(0)} ms`, `< ${REFERENCE_MS} ms`);
row('  p95', `${pct(delays, 95).toFixed(0)} ms`, `< ${REFERENCE_MS} ms`);
row('  max', `${(delays.at(-1) ?? Number.NaN).toFixed(0)} ms`, `< ${REFERENCE_MS} ms`);
console.log(
  `events timed ${delays.length} of ${expectedEvents}; messages ${[...counts].map(([type, n]) => `${type} ${n}`).join(', ')}; ` +
    `scans completed ${completed} of ${SCANS}; wall ${((Date.now() - wallStart) / 1000).toFixed(1)} s`,
);
if (delays.length !== expectedEvents || completed !== SCANS) process.exitCode = 1;

#!/usr/bin/env node
/* global fetch, crypto, TextEncoder */
// bench:hub — 2,000 simulated agents (in two processes) dial one control plane on loopback,
// receive one scheduled scan over 2,000 sites, and stream their findings into it. Prints the
// connections held, findings ingested per second, send->queryable latency (an ack goes out only
// after the commit, so acked means queryable), p99 of GET /scans/cve/{id} while that runs, and
// the control plane's peak RSS, each beside the aim. Run: npm run bench:hub
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import pino from 'pino';
import { openSqliteStore } from '../dist/control-plane/store/sqlite/index.js';
import { generateSiteToken, hashSiteToken } from '../dist/control-plane/hub/tokens.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 2000);
const PROCS = 2;
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 60);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 32);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const aims = { agents: 2000, findingsPerSecond: 10_000, restP99Ms: 100 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const dir = mkdtempSync(path.join(tmpdir(), 'bench-hub-'));
const children = [];
const cleanup = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

// Sites and their tokens, written the way `cve-control-plane sites add` does, in one go.
const store = openSqliteStore({ stateDir: dir, logger: pino({ level: 'silent' }) });
const sites = [];
const at = new Date().toISOString();
for (let i = 0; i < AGENTS; i += 1) {
  const site = { id: crypto.randomUUID(), token: generateSiteToken() };
  await store.sites.create({
    id: site.id,
    org_id: 'bench',
    name: `site-${i}`,
    created_at: at,
    token_rotated_at: at,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(site.token),
  });
  sites.push(site);
}
await store.close();

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const url = `http://127.0.0.1:${port}`;
const config = path.join(dir, 'control-plane.yaml');
writeFileSync(
  config,
  `state_dir: ${dir}\nlog_level: warn\nlisten: {host: 127.0.0.1, port: ${port}}\nauth: {hs256_secret: ${SECRET}}\n` +
    `notification_groups: {bench: {secret: s, webhooks: ['http://127.0.0.1:1/none']}}\nnotifications: {max_attempts: 1}\n` +
    // The bench measures the API, not the limiter: one client address sends every request.
    `rate_limit: {per_address_per_minute: 1000000, per_token_per_minute: 1000000}\n`,
);

// ulimit for the children: 2,000 sockets on each side, plus the database.
const withLimit = (args) => spawn('sh', ['-c', 'ulimit -n 20000 && exec "$0" "$@"', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
// BENCH_CP_NODE_FLAGS (e.g. --trace-gc) and BENCH_CP_LOG (a file for its stdout) help find where time goes.
const cpFlags = [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), ...(process.env.BENCH_CP_NODE_FLAGS?.split(' ') ?? [])];
const cp = withLimit([...cpFlags, 'dist/cli/cve-control-plane.js', '--config', config, 'serve']);
children.push(cp);
if (process.env.BENCH_CP_LOG) cp.stdout.pipe(createWriteStream(process.env.BENCH_CP_LOG));
else cp.stdout.resume();
for (let i = 0; ; i += 1) {
  try {
    if ((await fetch(`${url}/healthz`)).ok) break;
  } catch {
    if (i > 100) throw new Error('control plane did not start');
  }
  await sleep(100);
}
const vmHwmMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${cp.pid}/status`, 'utf8'))[1]) / 1024;

const token = await new SignJWT({ org: 'bench', scope: 'cve:view cve:create cve:update' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(SECRET));
const api = (method, p, body) =>
  fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });

// Agents: two processes, each its share.
const events = [];
const share = Math.ceil(AGENTS / PROCS);
for (let p = 0; p < PROCS; p += 1) {
  const planFile = path.join(dir, `plan-${p}.json`);
  writeFileSync(
    planFile,
    JSON.stringify({
      url,
      sites: sites.slice(p * share, (p + 1) * share),
      indexBase: p * share,
      findingsPerAgent: FINDINGS,
      window: WINDOW,
      connectConcurrency: 50,
    }),
  );
  const child = withLimit(['scripts/bench-hub-agents.mjs', planFile]);
  children.push(child);
  createInterface({ input: child.stdout }).on('line', (line) => events.push({ proc: p, ...JSON.parse(line) }));
}
const waitEvents = async (name, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  while (events.filter((e) => e.event === name).length < PROCS) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}: ${JSON.stringify(events.filter((e) => e.event !== 'done').slice(-5))}`);
    await sleep(100);
  }
};
const connectStart = Date.now();
await waitEvents('connected', 120_000);
const connectSeconds = (Date.now() - connectStart) / 1000;
const held = (await (await fetch(`${url}/healthz`)).json()).agents_connected;

// One schedule over every site; invoking it sends each agent its scan.invoke.
const schedule = await (
  await api('POST', '/scans/cve/scheduled', {
    description: 'bench',
    day_of_week: 0,
    time_of_day: '03:00',
    every_n_weeks: 2,
    timezone: 'UTC',
    min_cvss: 4,
    warning_threshold: 7,
    notification_group: 'bench',
    sites: sites.map((s, i) => ({ id: s.id, subnet: `10.${(i >> 8) & 255}.${i & 255}.0/24` })),
  })
).json();
const invoked = await (await api('POST', `/scans/cve/scheduled/${schedule.id}/invoke`)).json();
if (!invoked.scan_id) throw new Error(`invoke failed: ${JSON.stringify(invoked)}`);

// GET /scans/cve/{id} one request at a time while the findings stream in.
const invokedAt = performance.now();
const restLatencies = [];
let streaming = true;
const prober = (async () => {
  while (streaming) {
    const t = performance.now();
    const response = await api('GET', `/scans/cve/${invoked.scan_id}`);
    await response.json();
    restLatencies.push(performance.now() - t);
    if (process.env.BENCH_DEBUG) console.error('rest', (t - invokedAt).toFixed(0), (performance.now() - t).toFixed(0));
    await sleep(20);
  }
})();
await waitEvents('done', 300_000);
streaming = false;
await prober;

const done = events.filter((e) => e.event === 'done');
const frames = done.reduce((n, e) => n + e.frames, 0);
const seconds = (Math.max(...done.map((e) => e.lastAckAt)) - Math.min(...done.map((e) => e.firstSendAt))) / 1000;
const findings = AGENTS * FINDINGS;
const sample = done.flatMap((e) => e.sample).sort((a, b) => a - b);
restLatencies.sort((a, b) => a - b);
const scan = await (await api('GET', `/scans/cve/${invoked.scan_id}`)).json();
const rssMb = vmHwmMb();
const errors = events.filter((e) => e.event === 'error').length;

cp.kill('SIGTERM');
await new Promise((resolve) => cp.on('exit', resolve));
for (const child of children) child.stdin.end();

const row = (name, value, aim, ratio) => console.log(`${name.padEnd(34)}${value.padStart(14)}  ${aim.padStart(12)}  ${ratio}`);
console.log(
  `bench:hub  node ${process.version}, ${AGENTS} agents in ${PROCS} processes, ${FINDINGS} findings + 7 other reports each, window ${WINDOW}, one scan over all sites`,
);
row('metric', 'measured', 'aim', 'measured/aim');
row('agent connections held', String(held), String(aims.agents), (held / aims.agents).toFixed(2));
row('findings ingested / s', (findings / seconds).toFixed(0), `>= ${aims.findingsPerSecond}`, (findings / seconds / aims.findingsPerSecond).toFixed(2));
row('  all reports ingested / s', (frames / seconds).toFixed(0), '', '');
row('send -> queryable p50', `${pct(sample, 50).toFixed(1)} ms`, '', '');
row('send -> queryable p99', `${pct(sample, 99).toFixed(1)} ms`, '', '');
row(
  `GET /scans/cve/{id} p99 (${restLatencies.length} req)`,
  `${pct(restLatencies, 99).toFixed(1)} ms`,
  `< ${aims.restP99Ms} ms`,
  (pct(restLatencies, 99) / aims.restP99Ms).toFixed(2),
);
row('GET /scans/cve/{id} p50', `${pct(restLatencies, 50).toFixed(1)} ms`, '', '');
row('control plane peak RSS', `${rssMb.toFixed(0)} MB`, '', '');
console.log(
  `connect of all agents ${connectSeconds.toFixed(1)} s; streaming ${seconds.toFixed(1)} s; scan ${scan.status} with cve_count ${scan.cve_count} of ${findings} sent` +
    `${scan.cve_count === findings ? ' (exactly once)' : ' (MISMATCH)'}; ${errors} protocol errors`,
);
if (scan.cve_count !== findings || held !== AGENTS) process.exitCode = 1;

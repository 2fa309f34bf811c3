/**
 * bench:hub-cluster — a throwaway PostgreSQL, two control-plane nodes on it and nginx in front
 * (the operators' config file, docs/deploy/nginx-cve-control-plane.conf), all on loopback.
 * Simulated agents (scripts/bench-hub-agents.mjs, two processes) dial the balancer.
 *   1. One scan over every site: findings ingested per second, send -> queryable (an ack leaves
 *      a node only after the commit), p99 of GET /scans/cve/{id} through the balancer, peak RSS
 *      of each node.
 *   2. A second scan, and one node SIGKILLed while it streams: the time until every agent is
 *      connected again (to the survivor), findings lost and doubled.
 *   3. bench:hub (one node on SQLite) with the same agents, in the same run, printed beside.
 * Run: npm run bench:hub-cluster (BENCH_AGENTS, BENCH_FINDINGS to change the load).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import pino from 'pino';
import { generateSiteToken, hashSiteToken } from '../src/control-plane/hub/tokens.js';
import { openPostgresStore } from '../src/control-plane/store/postgres/index.js';
import { startNginx, startNode, type NodeProcess } from '../test/helpers/cluster.js';
import { createDatabase, startPostgres } from '../test/helpers/postgres.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 2000);
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 60);
const PROCS = 2;
const HOST = '127.0.0.1';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const aims = { agents: 2000, findingsPerSecond: 10_000, queryableP99Ms: 1000, restP99Ms: 100, reconnectS: 30 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const dir = mkdtempSync(path.join(tmpdir(), 'bench-cluster-'));
const children: ChildProcess[] = [];
const cluster = await startPostgres({ host: HOST });
const cleanup = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const databaseUrl = await createDatabase(cluster.url, 'bench');
const store = await openPostgresStore({ url: databaseUrl, logger: pino({ level: 'silent' }), pool: { max: 4 } });
const sites = Array.from({ length: AGENTS }, () => ({ id: crypto.randomUUID(), token: generateSiteToken() }));
const at = new Date().toISOString();
await store.db.query(
  `INSERT INTO sites (id, org_id, name, token_hash, token_rotated_at, created_at)
   SELECT id, 'bench', 'site-' || n, hash, $3, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(id, hash, n)`,
  [sites.map((site) => site.id), sites.map((site) => hashSiteToken(site.token)), at],
);

const nodes: NodeProcess[] = [];
for (const name of ['node-a', 'node-b']) {
  nodes.push(
    await startNode({
      name,
      dir,
      host: HOST,
      databaseUrl,
      secret: SECRET,
      logLevel: 'warn',
      extra: ["notification_groups: { bench: { secret: s, webhooks: ['http://127.0.0.1:1/none'] } }", 'notifications: { max_attempts: 1 }'],
    }),
  );
}
for (const node of nodes) children.push(node.child);
const balancer = await startNginx({ dir, host: HOST, upstreams: nodes.map((node) => new URL(node.url).host) });
children.push(balancer.child);
const vmHwmMb = (pid: number | undefined) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const connectedPerNode = () =>
  Promise.all(
    nodes.map(async (node) => {
      try {
        return ((await (await fetch(`${node.url}/healthz`)).json()) as { agents_connected: number }).agents_connected;
      } catch {
        return 0;
      }
    }),
  );

const token = await new SignJWT({ org: 'bench', scope: 'cve:view cve:create cve:update' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(SECRET));
const api = (method: string, p: string, body?: unknown) =>
  fetch(`${balancer.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

interface AgentEvent {
  proc: number;
  event: string;
  n?: number;
  at?: number;
  frames?: number;
  firstSendAt?: number;
  lastAckAt?: number;
  sample?: number[];
}
const events: AgentEvent[] = [];
const share = Math.ceil(AGENTS / PROCS);
for (let p = 0; p < PROCS; p += 1) {
  const planFile = path.join(dir, `plan-${p}.json`);
  writeFileSync(
    planFile,
    JSON.stringify({
      url: balancer.url,
      sites: sites.slice(p * share, (p + 1) * share),
      indexBase: p * share,
      findingsPerAgent: FINDINGS,
      window: 32,
      connectConcurrency: 50,
      reconnect: true,
    }),
  );
  const child = spawn(process.execPath, ['scripts/bench-hub-agents.mjs', planFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  createInterface({ input: child.stdout }).on('line', (line) => events.push({ proc: p, ...(JSON.parse(line) as Omit<AgentEvent, 'proc'>) }));
}
const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};
const count = (name: string, from = 0) => events.slice(from).filter((e) => e.event === name).length;
await waitFor('agents connected', () => count('connected') === PROCS, 180_000);
await waitFor('every agent held by a node', async () => (await connectedPerNode()).reduce((a, b) => a + b, 0) === AGENTS, 60_000);
const held = (await connectedPerNode()).reduce((a, b) => a + b, 0);

const schedule = (await (
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
).json()) as { id: string };

/** Invokes the schedule and waits for every agent's run to be acknowledged; GET /scans/cve/{id} meanwhile. */
async function scanOnce(during?: (scanId: string) => Promise<void>) {
  const from = events.length;
  const invoked = (await (await api('POST', `/scans/cve/scheduled/${schedule.id}/invoke`)).json()) as { scan_id?: string };
  if (!invoked.scan_id) throw new Error(`invoke failed: ${JSON.stringify(invoked)}`);
  const scanId = invoked.scan_id;
  const rest: number[] = [];
  let streaming = true;
  const prober = (async () => {
    while (streaming) {
      const t = performance.now();
      try {
        await (await api('GET', `/scans/cve/${scanId}`)).json();
        rest.push(performance.now() - t);
      } catch {
        // a request cut by the kill: the client retries
      }
      await sleep(20);
    }
  })();
  await during?.(scanId);
  await waitFor('every run acknowledged', () => count('done', from) === PROCS, 600_000);
  streaming = false;
  await prober;
  const done = events.slice(from).filter((e) => e.event === 'done');
  const seconds = (Math.max(...done.map((e) => e.lastAckAt ?? 0)) - Math.min(...done.map((e) => e.firstSendAt ?? Infinity))) / 1000;
  const sample = done.flatMap((e) => e.sample ?? []).sort((a, b) => a - b);
  const [stored] = await store.db.query<{ total: number; distinct: number }>(
    `SELECT count(*) AS total, count(DISTINCT (site_id, ip, cve_id, port)) AS distinct FROM findings WHERE scan_id = $1`,
    [scanId],
  );
  return { scanId, seconds, sample, rest: rest.sort((a, b) => a - b), total: stored?.total ?? 0, distinct: stored?.distinct ?? 0 };
}

const first = await scanOnce();
const rss = nodes.map((node) => vmHwmMb(node.child.pid));

// Scan two: kill the node holding most agents once a third of the findings are in.
const expected = AGENTS * FINDINGS;
let reconnectSeconds = NaN;
let victimName = '';
const second = await scanOnce(async (scanId) => {
  await waitFor(
    'a third of the findings',
    async () => ((await store.db.query<{ n: number }>('SELECT count(*) AS n FROM findings WHERE scan_id = $1', [scanId]))[0]?.n ?? 0) >= expected / 3,
    300_000,
  );
  const perNode = await connectedPerNode();
  const victim = nodes[perNode[0]! >= perNode[1]! ? 0 : 1]!;
  victimName = `${victim.name} (${Math.max(...perNode)} agents)`;
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await victim.exited;
  const survivor = nodes.find((node) => node !== victim)!;
  // Every agent open again, and the survivor holds them all.
  await waitFor(
    'every agent back',
    async () => {
      const latest = [0, 1].map((p) => events.filter((e) => e.proc === p && e.event === 'open').at(-1)?.n ?? 0);
      if (latest[0]! + latest[1]! !== AGENTS) return false;
      const held = ((await (await fetch(`${survivor.url}/healthz`)).json()) as { agents_connected: number }).agents_connected;
      return held === AGENTS;
    },
    120_000,
  );
  reconnectSeconds = (Date.now() - killedAt) / 1000;
});
for (const child of children.slice(-PROCS)) child.stdin?.end();
await Promise.all(nodes.map((node) => node.stop()));
await balancer.stop();
await store.close();

// The single node on SQLite, same agents, same machine, same run.
const single = await new Promise<string>((resolve) => {
  const child = spawn(process.execPath, ['scripts/bench-hub.mjs'], { env: { ...process.env, BENCH_AGENTS: String(AGENTS), BENCH_FINDINGS: String(FINDINGS) } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  child.on('exit', () => resolve(out));
});
const singleValue = (metric: string) => new RegExp(`^${metric.replace(/[/{}()]/g, '\\$&')}\\S*\\s+(\\S+(?: ms| MB)?)`, 'm').exec(single)?.[1] ?? 'n/a';

const row = (name: string, cluster: string, sqlite: string, aim: string) =>
  console.log(`${name.padEnd(36)}${cluster.padStart(16)}${sqlite.padStart(16)}${aim.padStart(12)}`);
console.log(
  `bench:hub-cluster  node ${process.version}, ${AGENTS} agents in ${PROCS} processes, ${FINDINGS} findings each per scan; PostgreSQL + 2 nodes + nginx on loopback`,
);
row('metric', '2 nodes + PG', '1 node SQLite', 'aim');
row('agent connections held', String(held), singleValue('agent connections held'), String(aims.agents));
row('findings ingested / s', (expected / first.seconds).toFixed(0), singleValue('findings ingested / s'), `>= ${aims.findingsPerSecond}`);
row('send -> queryable p99', `${pct(first.sample, 99).toFixed(1)} ms`, singleValue('send -> queryable p99'), `< ${aims.queryableP99Ms} ms`);
row('send -> queryable p50', `${pct(first.sample, 50).toFixed(1)} ms`, singleValue('send -> queryable p50'), '');
row(`GET /scans/cve/{id} p99`, `${pct(first.rest, 99).toFixed(1)} ms`, singleValue('GET /scans/cve/{id} p99'), `< ${aims.restP99Ms} ms`);
row('GET /scans/cve/{id} p50', `${pct(first.rest, 50).toFixed(1)} ms`, singleValue('GET /scans/cve/{id} p50'), '');
row('peak RSS per node', rss.map((mb) => `${mb.toFixed(0)}`).join(' / ') + ' MB', singleValue('control plane peak RSS'), '');
console.log(`scan 1: ${first.total} findings stored of ${expected} sent, ${first.distinct} distinct`);
console.log(`scan 2, ${victimName} SIGKILLed at a third:`);
row('  every agent reconnected after', `${reconnectSeconds.toFixed(1)} s`, '', `< ${aims.reconnectS} s`);
row('  findings lost', String(expected - second.distinct), '', '0');
row('  findings doubled', String(second.total - second.distinct), '', '0');
if (second.total !== expected || second.distinct !== expected || first.total !== expected) process.exitCode = 1;

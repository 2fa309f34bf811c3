#!/usr/bin/env node
// bench:idle — the daemon's resident memory after start with 50 schedules armed, and its
// time from spawn to READY=1, next to a bare Node process on the same machine (the floor
// any Node daemon pays), to the figures before issue 15 and to its aims (60 MB, 500 ms). The
// daemon runs with the node options of systemd/cve-agent.service, as in production.
// BENCH_BASELINE_ROOT=<another built checkout> measures that tree's daemon in the same run.
// Run: npm run bench:idle
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { unitNodeOptions } from './bench-node-options.mjs';

const schedules = 50;
const aims = { readyMs: 500, rssMb: 60 };
// Measured with this script at commit 7bdc041 (no node options then) on the shared 2-CPU dev VM,
// 2026-12-05, under heavy load from other jobs: the bare node beside it took 760 ms to print.
const before = { readyMs: 3849, rss: 96.3, idleRss: 96.4, idleAnon: 46.3 };
const baselineRoot = process.env.BENCH_BASELINE_ROOT;
const runs = 2;
const listenerPy = String.raw`
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('listening', flush=True)
while True:
    data = s.recv(65536).decode()
    print('%.3f %s' % (time.time() * 1000, data.replace('\n', ' ')), flush=True)
`;

const statusMb = (pid, field) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) / 1024;
};
// Right after start, and once V8's idle memory reducer has run (it waits ~8 s of quiet).
const settleMs = 2000;
const idleMs = 20000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function writeConfig(dir) {
  const site = randomUUID();
  const lines = [`site_id: ${site}`, 'log_level: warn', 'subnets: [127.0.10.0/24]', 'scheduler: {timezone: Europe/London}', 'schedules:'];
  for (let i = 0; i < schedules; i += 1) {
    lines.push(
      `  - {id: ${randomUUID()}, description: "bench ${i}", day_of_week: ${i % 7}, time_of_day: "${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}", every_n_weeks: ${2 + (i % 4)}, min_cvss: 4, warning_threshold: 7}`,
    );
  }
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function measure(args, readyFromLog) {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-idle-'));
  const socketPath = path.join(dir, 'notify.sock');
  const listener = spawn('python3', ['-c', listenerPy, socketPath]);
  const lines = createInterface({ input: listener.stdout });
  const datagrams = [];
  let listening;
  const listeningP = new Promise((resolve) => (listening = resolve));
  lines.on('line', (line) => (line === 'listening' ? listening() : datagrams.push(line)));
  await listeningP;
  const config = writeConfig(dir);
  const started = Date.now();
  const child = spawn(process.execPath, args(config, dir), { env: { ...process.env, NOTIFY_SOCKET: socketPath }, stdio: ['ignore', 'pipe', 'inherit'] });
  let readyAt;
  if (readyFromLog) {
    const out = createInterface({ input: child.stdout });
    await new Promise((resolve) => out.on('line', (line) => line.includes(readyFromLog) && resolve()));
    readyAt = Date.now();
  } else {
    child.stdout.resume();
    while (!datagrams.some((d) => d.includes('READY=1'))) await sleep(5);
    readyAt = Number(datagrams.find((d) => d.includes('READY=1')).split(' ')[0]);
  }
  await sleep(settleMs);
  const rss = statusMb(child.pid, 'VmRSS');
  await sleep(idleMs - settleMs);
  const idleRss = statusMb(child.pid, 'VmRSS');
  const idleAnon = statusMb(child.pid, 'RssAnon');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  listener.kill();
  rmSync(dir, { recursive: true, force: true });
  return { readyMs: readyAt - started, rss, idleRss, idleAnon };
}

const cli = path.resolve('dist/cli/cve-agent.js');
const nodeOptions = unitNodeOptions();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = [];
const bare = [];
const base = [];
for (let i = 0; i < runs; i += 1) {
  ours.push(await measure((config, dir) => [...nodeOptions, cli, 'run', '--config', config, '--data-dir', path.join(dir, 'state')]));
  if (baselineRoot !== undefined)
    base.push(
      await measure((config, dir) => [path.join(baselineRoot, 'dist/cli/cve-agent.js'), 'run', '--config', config, '--data-dir', path.join(dir, 'state')]),
    );
  bare.push(await measure(() => ['-e', "console.log('up'); setInterval(() => {}, 1000)"], 'up'));
}
const pick = (list) => Object.fromEntries(Object.keys(list[0]).map((key) => [key, median(list.map((r) => r[key]))]));
const o = pick(ours);
const b = pick(bare);
console.log(`bench:idle  node ${process.version}, ${schedules} schedules armed, median of ${runs} runs; node options: ${nodeOptions.join(' ') || '(none)'}`);
const m = base.length > 0 ? pick(base) : before;
const fromBase = base.length > 0 ? `baseline tree ${baselineRoot} (same run)` : 'before: commit 7bdc041 (constant in this script)';
console.log(`"before" column: ${fromBase}`);
console.log('metric              cve-agent   before      bare node   aim      agent/aim');
console.log(
  `time to READY=1     ${o.readyMs.toFixed(0).padStart(6)} ms  ${m.readyMs.toFixed(0).padStart(6)} ms  ${b.readyMs.toFixed(0).padStart(6)} ms  ${String(aims.readyMs).padStart(4)} ms  ${(o.readyMs / aims.readyMs).toFixed(2)}`,
);
const row = (name, key) =>
  console.log(
    `${name.padEnd(20)}${o[key].toFixed(1).padStart(6)} MB  ${m[key].toFixed(1).padStart(6)} MB  ${b[key].toFixed(1).padStart(6)} MB  ${String(aims.rssMb).padStart(4)} MB  ${(o[key] / aims.rssMb).toFixed(2)}`,
  );
row('RSS at READY+2s', 'rss');
row('RSS idle 20s', 'idleRss');
row('  of it private', 'idleAnon');
console.log('(the rest of RSS is the node binary and libraries, file-backed and shared between processes)');

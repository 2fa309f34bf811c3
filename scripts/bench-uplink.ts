/**
 * bench:uplink — how fast the agent's uplink empties its outbox into the real control plane on
 * loopback, beside the reference: the control plane tests' simulated agent, which streams the same
 * reports with the same window from memory (no SQLite reads, no deletes). Both feed the same
 * control plane, one after the other: a run's scan.status, then host + 4 findings per host, then
 * scan.finished. Prints reports/s of each and the ratio, and the uplink's peak rows in flight.
 * Run: npm run bench:uplink   (BENCH_HOSTS=2000 by default: 10,002 reports)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createAgent } from '../src/agent/agent.js';
import { buildConfig as buildAgentConfig } from '../src/agent/config/load.js';
import { OutboxRepository, type OutgoingReport } from '../src/agent/store/outbox-repository.js';
import { createSdNotifier } from '../src/shared/sd-notify.js';
import { openStore } from '../src/agent/store/database.js';
import { buildConfig as buildControlPlaneConfig } from '../src/control-plane/config/load.js';
import { generateSiteToken, hashSiteToken } from '../src/control-plane/hub/tokens.js';
import { createControlPlane } from '../src/control-plane/main.js';
import { openSqliteStore } from '../src/control-plane/store/sqlite/index.js';
import { finding, finished, host, macOf, newRunId, scanStatus } from '../test/simulators/control-plane/reports.js';
import { SimulatedAgent, type ReportInput } from '../test/simulators/control-plane/simulated-agent.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 2000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 128);
const CVES = ['CVE-2018-14847', 'CVE-2019-3976', 'CVE-2019-3977', 'CVE-2023-30799'];

function runReports(): ReportInput[] {
  const runId = newRunId();
  const reports: ReportInput[] = [scanStatus({ runId, subnets: ['127.41.0.0/16'] })];
  for (let i = 0; i < HOSTS; i += 1) {
    const ip = `127.41.${(i >> 8) & 255}.${i & 255}`;
    reports.push(host(runId, ip, macOf(i)));
    for (const cve of CVES) reports.push(finding(runId, ip, macOf(i), cve));
  }
  reports.push(finished(runId, HOSTS * CVES.length, 'completed', HOSTS));
  return reports;
}

const dir = mkdtempSync(path.join(tmpdir(), 'bench-uplink-'));
const logger = pino({ level: 'silent' });
const { config: cpConfig } = buildControlPlaneConfig(
  { state_dir: path.join(dir, 'cp'), listen: { host: '127.0.0.1', port: 0 }, auth: { hs256_secret: 'bench-secret-bench-secret-bench-secret-01' } },
  undefined,
  { env: {} },
);
const store = openSqliteStore({ stateDir: cpConfig.state_dir, logger });
const cp = createControlPlane({ config: cpConfig, store, clock: { now: () => new Date() }, logger });
await cp.start();
const wsUrl = cp.url().replace(/^http/, 'ws');

async function addSite(name: string): Promise<{ id: string; token: string }> {
  const id = crypto.randomUUID();
  const token = generateSiteToken();
  const at = new Date().toISOString();
  await store.sites.create({
    id,
    org_id: 'bench',
    name,
    created_at: at,
    token_rotated_at: at,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(token),
  });
  return { id, token };
}

async function benchUplink(): Promise<{ reports: number; seconds: number; streaming: number; peak: number }> {
  const site = await addSite('uplink');
  const stateDir = path.join(dir, 'agent');
  const reports = runReports();
  const prefill = openStore({ stateDir, logger, exclusive: false });
  const outbox = new OutboxRepository(prefill.db);
  prefill.db.transaction(() => {
    for (const report of reports) outbox.append(report as OutgoingReport);
  })();
  prefill.close();
  const { config } = buildAgentConfig({ site_id: site.id, subnets: ['127.41.0.0/24'], control_plane: { url: wsUrl, token: site.token } }, undefined, {
    env: {},
    dataDir: stateDir,
  });
  const agent = createAgent({ config, logger, notifier: createSdNotifier({ env: {}, logger }), uplink: { window: WINDOW } });
  const reader = new Database(path.join(stateDir, 'agent.db'), { readonly: true });
  const count = reader.prepare('SELECT count(*) FROM outbox').pluck();
  const started = performance.now();
  await agent.start();
  while (!agent.uplink?.connected) await new Promise((resolve) => setTimeout(resolve, 1));
  const connected = performance.now();
  while ((count.get() as number) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  const streaming = (performance.now() - connected) / 1000;
  const peak = agent.uplink?.pump.peakInFlight ?? 0;
  reader.close();
  await agent.stop();
  return { reports: reports.length, seconds, streaming, peak };
}

async function benchReference(): Promise<{ reports: number; seconds: number; streaming: number }> {
  const site = await addSite('reference');
  const reports = runReports();
  const simulated = new SimulatedAgent({ url: cp.url(), token: site.token, siteId: site.id, window: WINDOW });
  const started = performance.now();
  await simulated.connect();
  const connected = performance.now();
  for (const report of reports) simulated.report(report);
  await simulated.drained(120_000);
  const seconds = (performance.now() - started) / 1000;
  const streaming = (performance.now() - connected) / 1000;
  await simulated.close();
  return { reports: reports.length, seconds, streaming };
}

try {
  const ours = await benchUplink();
  const reference = await benchReference();
  const rate = (r: { reports: number; seconds: number }) => r.reports / r.seconds;
  const streamRate = (r: { reports: number; streaming: number }) => r.reports / r.streaming;
  const rows: [string, string, string, string][] = [
    ['', 'uplink (agent.db outbox)', 'reference (simulated agent, memory)', 'ratio'],
    ['reports', String(ours.reports), String(reference.reports), ''],
    ['seconds to drain, from start', ours.seconds.toFixed(2), reference.seconds.toFixed(2), ''],
    ['reports/s, from start', rate(ours).toFixed(0), rate(reference).toFixed(0), `${(rate(ours) / rate(reference)).toFixed(2)}x`],
    ['reports/s, once connected', streamRate(ours).toFixed(0), streamRate(reference).toFixed(0), `${(streamRate(ours) / streamRate(reference)).toFixed(2)}x`],
    ['peak rows in flight', String(ours.peak), `${WINDOW} (window)`, ''],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log(`bench:uplink: ${HOSTS} hosts x ${CVES.length} findings through the real control plane on loopback, window ${WINDOW}`);
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
} finally {
  await cp.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Whatever fails while a scan streams in, the control plane ends up holding every finding exactly
 * once: TCP drops at random points, the control plane stopped and restarted (and killed with
 * SIGKILL as a process), the agent killed and restarted with a stale outbox, old frames replayed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { generateSiteToken, hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import { openEngineStore, storeConfigLine } from '../../helpers/store-engine.js';
import type { Report } from '../../../src/protocol/index.js';
import { finding, finished, host, macOf, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { tempDir } from '../../helpers/temp.js';
import { JWT_SECRET, startHarness, type Harness } from './harness.js';
import { controlPlaneCli } from '../../helpers/cli.js';

const FINDINGS = 300;
let h: Harness | undefined;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h?.stop();
  h = undefined;
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/** A run's reports: status, hosts, FINDINGS findings spread over them, finished. */
function runReports(runId: string, target: { scanId?: string; subScanId?: string; scheduleId?: string }) {
  const reports = [scanStatus({ runId, ...target })];
  for (let i = 0; i < 10; i += 1) reports.push(host(runId, `192.168.88.${i + 10}`, macOf(i)));
  for (let i = 0; i < FINDINGS; i += 1)
    reports.push(finding(runId, `192.168.88.${(i % 10) + 10}`, macOf(i % 10), `CVE-2021-${String(20000 + i)}`, 4 + (i % 6)));
  reports.push(finished(runId, FINDINGS, 'completed', 10));
  return reports;
}

/** Reconnects until welcomed: the control plane may be down for a while. */
async function reconnect(agent: SimulatedAgent): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await agent.connect();
      return;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

describe('exactly once, whatever fails', () => {
  it('survives random TCP drops, a control plane restart, an agent restart with a stale outbox and replayed frames', async () => {
    const port = await freePort();
    const dir = tempDir('cp-faults-');
    const config = { listen: { host: '127.0.0.1', port } };
    h = await startHarness({ dir, config });
    const site = await h.addSite();
    const rand = random(7);
    let agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, window: 40 });
    agents.push(agent);
    await agent.connect();
    const runId = newRunId();
    const reports = runReports(runId, {});
    let next = 0;
    const feed = (count: number) => {
      for (const end = Math.min(reports.length, next + count); next < end; next += 1) agent.report(reports[next] as never);
    };

    // Drops at random points, each followed by an immediate reconnect and replay.
    for (let drop = 0; drop < 4; drop += 1) {
      feed(20 + Math.floor(rand() * 40));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 15)));
      agent.drop();
      await reconnect(agent);
    }

    // The control plane stops mid-scan and comes back after a while on the same address.
    feed(40);
    await h.stop();
    h = undefined;
    feed(30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    h = await startHarness({ dir, config });
    await reconnect(agent);

    // The agent is killed and restarts: its database still holds rows whose acks it never saw.
    feed(25);
    await agent.drained();
    const stale = [...(reports.slice(0, next) as Report[])].map((report, index) => ({ ...report, seq: index + 1 }) as Report).slice(-30);
    agent.drop();
    agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, streamId: agent.streamId, outbox: stale, window: 40 });
    agents.push(agent);
    await reconnect(agent);
    feed(reports.length);
    await agent.drained(20_000);

    // And an old frame arrives once more, long after it was acknowledged.
    agent.sendRaw(JSON.stringify({ ...reports[5], seq: 6 }));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const scans = (await h.request('GET', '/scans/cve')).body as { status: string; cve_count: number; hosts_scanned: number; unique_cves: number }[];
    expect(scans).toEqual([expect.objectContaining({ status: 'completed', cve_count: FINDINGS, unique_cves: FINDINGS, hosts_scanned: 10 })]);
    const report = (await h.request('GET', `/scans/cve/${(scans[0] as unknown as { id: string }).id}/report.json`)).body as {
      cves: unknown[];
      scan: { events: { message: string }[] };
    };
    expect(report.cves).toHaveLength(FINDINGS);
    // The agent's own count matched what the control plane holds: no "sent N, holds M" warning.
    expect(report.scan.events).toEqual([]);
  });

  it('loses nothing when the control plane process is killed with SIGKILL mid-scan', async () => {
    const dir = tempDir('cp-kill-');
    const port = await freePort();
    const file = path.join(dir, 'cp.yaml');
    writeFileSync(
      file,
      `state_dir: ${dir}\nlog_level: info\nlisten: {host: 127.0.0.1, port: ${port}}\nauth: {hs256_secret: ${JWT_SECRET}}\n${await storeConfigLine(dir)}\n`,
    );
    const token = generateSiteToken();
    const siteId = crypto.randomUUID();
    const store = await openEngineStore(dir, pino({ level: 'silent' }), { ingestThread: false });
    const at = new Date().toISOString();
    await store.sites.create({
      id: siteId,
      org_id: 'org-a',
      name: 'kill',
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: hashSiteToken(token),
    });
    await store.close();
    const cli = controlPlaneCli;
    const serve = async () => {
      const child = spawn(process.execPath, [cli, '--config', file, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
      onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
      const ready = new Promise<void>((resolve) =>
        createInterface({ input: child.stdout }).on('line', (line) => line.includes('control plane ready') && resolve()),
      );
      await ready;
      return child;
    };
    let child = await serve();
    const url = `http://127.0.0.1:${port}`;
    const agent = new SimulatedAgent({ url, token, siteId, window: 60 });
    agents.push(agent);
    await agent.connect();
    const reports = runReports(newRunId(), {});
    for (const report of reports.slice(0, 200)) agent.report(report as never);
    await agent.waitFor(() => agent.lastAcked > 20);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    for (const report of reports.slice(200)) agent.report(report as never);
    child = await serve();
    await reconnect(agent);
    await agent.drained(20_000);
    const check = await openEngineStore(dir, pino({ level: 'silent' }), { ingestThread: false });
    const scans = await check.scans.list('org-a');
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatchObject({ status: 'completed', cve_count: FINDINGS });
    expect(await check.scans.findings((scans[0] as { id: string }).id)).toHaveLength(FINDINGS);
    await check.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
  });
});

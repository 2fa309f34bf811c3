import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startAgentProcess } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';
import { startHarness } from '../control-plane/harness.js';
import { createSchedule, eventually, startServices, subnetOf } from './site.js';

const net = 37;

describe('the agent is killed mid-scan', () => {
  it('kill -9 while its scan runs, start it again: the scan resumes and every finding reaches the control plane exactly once', async () => {
    const cp = await startHarness();
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const { routerPort } = await startServices(net);
    const dir = tempDir('uplink-kill-');
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        `site_id: ${site.id}`,
        `subnets: [${subnetOf(net)}]`,
        'router:',
        '  host: 127.0.0.1',
        `  port: ${routerPort}`,
        '  user: edge-cve',
        '  password: router-secret',
        'scan:',
        "  ports: '2222,8080,2121'",
        '  udp: false',
        'control_plane:',
        `  url: ${cp.url.replace(/^http/, 'ws')}`,
        `  token: ${site.token}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const args = ['run', '--config', config, '--data-dir', path.join(dir, 'state')];
    const first = startAgentProcess(args);
    await first.waitForLog('uplink connected');
    const scheduleId = await createSchedule(cp, site.id, net);
    await first.waitForLog('command applied');
    const invoked = await cp.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
    const scanId = (invoked.body as { scan_id: string }).scan_id;
    // Killed once some hosts are done and reported, before the scan ends.
    await eventually('some results on the control plane', async () => ((await cp.store.scans.hosts(scanId)).length > 0 ? true : undefined), 20_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    const before = await cp.request('GET', `/scans/cve/${scanId}`);
    expect((before.body as { status: string }).status).toBe('scanning');

    const second = startAgentProcess(args);
    await second.waitForLog('uplink connected');
    const status = await eventually(
      'the scan to finish on the control plane',
      async () => {
        const body = (await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string };
        return ['completed', 'partial', 'failed'].includes(body.status) ? body.status : undefined;
      },
      25_000,
    );
    expect(status).toBe('completed');
    const findings = await cp.store.scans.findings(scanId);
    const keys = findings.map((f) => `${f.host.ip} ${f.cve.id} ${f.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(`127.0.${net}.2 CVE-2023-38408 2222`);
    const hosts = await cp.store.scans.hosts(scanId);
    expect(new Set(hosts.map((host) => host.ip)).size).toBe(hosts.length);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    // The same findings as the agent stored, none lost across the kill, none twice.
    const db = new Database(path.join(dir, 'state', 'agent.db'), { readonly: true });
    const local = db
      .prepare<[string], string>(
        `SELECT h.ip || ' ' || f.cve_id || ' ' || coalesce(f.port, 'null') FROM findings f JOIN scan_hosts h ON h.id = f.host_id JOIN scans s ON s.id = h.scan_id WHERE s.cp_scan_id = ?`,
      )
      .pluck()
      .all(scanId);
    const left = db.prepare('SELECT count(*) FROM outbox').pluck().get();
    db.close();
    expect(keys.sort()).toEqual(local.sort());
    expect(left).toBe(0);
  });
});

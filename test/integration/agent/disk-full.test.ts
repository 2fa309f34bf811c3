/**
 * A full disk degrades the agent, never kills it. The real agent process runs against a real
 * control plane with its state directory on a small tmpfs this test mounts (root, as in CI); a
 * filler file takes every free byte, a scan is invoked, and the agent must stay up, say why on
 * its STATUS= line and to the control plane (visible in the API), start no scan, and once the
 * filler is gone resume by itself: the held invoke runs, and nothing recorded before is lost.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startAgentProcess } from '../../helpers/agent-process.js';
import { startNotifyListener } from '../../helpers/notify-listener.js';
import { tempDir } from '../../helpers/temp.js';
import { startHarness } from '../control-plane/harness.js';
import { createSchedule, eventually, startServices, subnetOf } from '../uplink/site.js';

const net = 41;

/** Mounts a tmpfs of `size` on `dir`; false where mounting is not allowed. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `file` until the disk under it has not one byte left. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

interface Snapshot {
  scans: { id: string; status: string; cp_scan_id: string | null }[];
  hosts: string[];
  findings: string[];
}

function snapshot(dbFile: string): Snapshot {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return {
      scans: db.prepare<[], Snapshot['scans'][number]>('SELECT id, status, cp_scan_id FROM scans ORDER BY created_at, id').all(),
      hosts: db.prepare<[], string>("SELECT scan_id || ' ' || ip FROM scan_hosts ORDER BY 1").pluck().all(),
      findings: db
        .prepare<[], string>(
          "SELECT h.scan_id || ' ' || h.ip || ' ' || f.cve_id || ' ' || coalesce(f.port, '-') FROM findings f JOIN scan_hosts h ON h.id = f.host_id ORDER BY 1",
        )
        .pluck()
        .all(),
    };
  } finally {
    db.close();
  }
}

describe('the state directory disk fills up', () => {
  it('the agent stays up, starts no scan, says why (log, STATUS=, the API), and resumes by itself when space returns; nothing recorded is lost', async () => {
    const dir = tempDir('disk-full-');
    // Not under the temp dir, which is removed before onTestFinished would unmount it.
    const stateDir = mkdtempSync(path.join(tmpdir(), 'disk-full-state-'));
    // Root in CI: the test mounts its own small disk. Elsewhere this fails loudly rather than skipping.
    expect(mountTmpfs(stateDir, '48m'), 'mount -t tmpfs needs root (CAP_SYS_ADMIN)').toBe(true);
    onTestFinished(() => {
      // Lazy: the agent may still be going away when this runs.
      execFileSync('umount', ['-l', stateDir], { stdio: 'pipe' });
      rmSync(stateDir, { recursive: true, force: true });
    });

    const cp = await startHarness();
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const { routerPort } = await startServices(net);
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
    const notify = await startNotifyListener();
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', stateDir], { NOTIFY_SOCKET: notify.address });
    await agent.waitForLog('uplink connected');
    await notify.waitFor((all) => all.some((d) => d.data.startsWith('READY=1')));
    const scheduleId = await createSchedule(cp, site.id, net);
    await agent.waitForLog('command applied');

    const scanStatus = async (scanId: string) => ((await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string }).status;
    const finished = (scanId: string) =>
      eventually(
        `scan ${scanId} to finish on the control plane`,
        async () => {
          const status = await scanStatus(scanId);
          return ['completed', 'partial', 'failed'].includes(status) ? status : undefined;
        },
        30_000,
      );
    const invoke = async () => {
      const invoked = await cp.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
      expect(invoked.status).toBe(202);
      return (invoked.body as { scan_id: string }).scan_id;
    };
    const scheduleStatus = async () =>
      (await cp.request('GET', `/scans/cve/${scheduleId}/status`)).body as { storage_failing: { site_id: string; reason: string | null }[] };

    // A scan recorded before the disk fills: what must survive.
    const first = await invoke();
    expect(await finished(first)).toBe('completed');
    const dbFile = path.join(stateDir, 'agent.db');
    const before = snapshot(dbFile);
    expect(before.scans).toHaveLength(1);
    expect(before.findings.length).toBeGreaterThan(0);
    expect((await scheduleStatus()).storage_failing).toEqual([]);

    // The disk fills up; a scan invoked now cannot be recorded.
    const filler = path.join(stateDir, 'filler.bin');
    expect(fillDisk(filler)).toBeGreaterThan(0);
    const held = await invoke();
    await agent.waitForLog(/storage full: not starting scans/);
    const status = await notify.waitFor((all) => all.some((d) => d.data.startsWith('STATUS=storage full: not starting scans (')));
    expect(status.find((d) => d.data.startsWith('STATUS=storage full'))?.data).toMatch(/SQLITE_FULL/);
    await agent.waitForLog('command held until storage recovers; it is applied then');
    const failing = await eventually('the API to show the site storage failing', async () => {
      const body = await scheduleStatus();
      return body.storage_failing.length > 0 ? body.storage_failing : undefined;
    });
    expect(failing).toEqual([{ site_id: site.id, reason: expect.stringContaining('SQLITE_FULL'), since: expect.any(String) }]);

    // Still up, and no scan started: the agent's rows are what they were.
    expect(agent.child.exitCode).toBeNull();
    expect(agent.child.signalCode).toBeNull();
    expect(snapshot(dbFile)).toEqual(before);
    expect(await scanStatus(held)).toBe('queued');
    // Said once, not once per failed write.
    expect(agent.logs.filter((line) => /storage full: not starting scans/.test(String(line.msg)))).toHaveLength(1);

    // Space returns: the agent notices by itself, says so, and runs the held invoke.
    rmSync(filler);
    await agent.waitForLog('storage writable again: scans start again');
    await notify.waitFor((all) => all.some((d) => d.data.startsWith('STATUS=storage writable again; ')));
    expect(await finished(held)).toBe('completed');
    await eventually('the API to show the site storage ok again', async () => ((await scheduleStatus()).storage_failing.length === 0 ? true : undefined));

    // Nothing recorded before is lost: every row is still there, alongside the new scan's.
    const after = snapshot(dbFile);
    expect(after.scans).toEqual([...before.scans, expect.objectContaining({ cp_scan_id: held, status: 'completed' })]);
    expect(after.hosts).toEqual(expect.arrayContaining(before.hosts));
    expect(after.findings).toEqual(expect.arrayContaining(before.findings));
    expect(await cp.store.scans.findings(first)).toHaveLength(before.findings.length);

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });
});

import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConfig, type AgentConfig } from '../../../src/agent/config/load.js';
import { openScans, slotSpec } from '../../../src/agent/pipeline/index.js';
import { ScanRepository } from '../../../src/agent/pipeline/scan-repository.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { openStore, type OpenedStore } from '../../../src/agent/store/database.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '5d2b8f0e-3c4a-4e6b-9a1d-7f8e9c0b1a2d';
const scheduleId = '8e4c2a1f-6b3d-4f5e-8a7c-9d0e1f2a3b4c';
// The 14 host addresses of a /28 of this test's block: each answers (refused counts as alive), one runs sshd.
const subnet = '127.0.150.0/28';
const sshd = '127.0.150.2';

/** A clock the test moves by hand. */
class FakeClock {
  constructor(public current: Date) {}
  now = () => new Date(this.current.getTime());
  set(iso: string) {
    this.current = new Date(iso);
  }
}

const until = async (what: () => boolean) => {
  while (!what()) await new Promise((resolve) => setTimeout(resolve, 20));
};

function site(dataDir: string): AgentConfig {
  const raw = {
    site_id: siteId,
    subnets: [subnet],
    schedules: [
      {
        id: scheduleId,
        description: 'nights only',
        day_of_week: 1,
        time_of_day: '22:30',
        every_n_weeks: 2,
        timezone: 'Europe/Berlin',
        min_cvss: 4,
        warning_threshold: 7,
        window: { start: '22:00', end: '06:00' },
      },
    ],
  };
  return buildConfig(raw, undefined, { env: {}, dataDir }).config;
}

function openPipeline(config: AgentConfig, clock: FakeClock, store: OpenedStore) {
  const { logger } = captureLogger('warn');
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock, logger }).syncFromConfig(config.schedules);
  const shutdown = new AbortController();
  const scans = openScans({
    config: () => config,
    db: store.db,
    logger,
    clock,
    siteId,
    shutdown: shutdown.signal,
    overrides: { ports: '2222', udp: false, scanSettings: { hostGroup: 1 } },
  });
  onTestFinished(() => scans.close());
  return { scans, shutdown, schedule: () => schedules.get(scheduleId)! };
}

describe('scan windows on the agent', () => {
  it('pauses a run at a host boundary when its window closes, survives a restart paused, and completes at the next opening with each host scanned once', async () => {
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ssh = await startFakeService({ host: sshd, port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n', gate });
    const dir = tempDir();
    const config = site(dir);
    // Monday 2026-03-02 22:30 in Berlin (CET): the window is open.
    const clock = new FakeClock(new Date('2026-03-02T21:30:00Z'));
    const { logger } = captureLogger('warn');
    const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
    onTestFinished(() => store.close());
    const repo = new ScanRepository(store.db);
    const outbox = new OutboxRepository(store.db);
    const first = openPipeline(config, clock, store);
    const { scan, done } = first.scans.start(slotSpec(first.schedule(), '2026-03-02T21:30:00.000Z', siteId));

    // Hosts go one at a time in address order (text): .1, .10-.14, then .2, whose sshd holds its greeting.
    await until(() => ssh.connections() > 0);
    expect(repo.get(scan.id)?.status).toBe('scanning');
    // 06:00 in Berlin: the window closes while .2 is in flight.
    clock.set('2026-03-03T05:00:00Z');
    first.scans.checkWindows();
    release();
    await until(() => repo.get(scan.id)?.status === 'paused');
    const paused = repo.get(scan.id)!;
    expect(paused.paused_until).toBe('2026-03-03T21:00:00.000Z');
    // The host in flight finished; those after it wait, pending.
    const doneAtPause = repo.hostsByState(scan.id, 'done').map((host) => host.ip);
    expect(doneAtPause).toContain(sshd);
    expect(repo.hostsByState(scan.id, 'pending').map((host) => host.ip)).toEqual(['3', '4', '5', '6', '7', '8', '9'].map((last) => `127.0.150.${last}`));
    expect(repo.events(scan.id).map((event) => event.message)).toContain('paused: window closed, resumes at 2026-03-03T22:00:00+01:00');
    const statuses = () =>
      outbox
        .pending(0, 100_000)
        .filter((row) => row.type === 'scan.status')
        .map((row) => JSON.parse(row.payload) as { status: string; resumes_at?: string });
    expect(statuses().at(-1)).toMatchObject({ status: 'paused', resumes_at: '2026-03-03T21:00:00.000Z' });
    const probesAtPause = ssh.connections();

    // The agent stops while paused: the run stays paused, and a new life waits for the window too.
    first.shutdown.abort(new Error('agent stopping'));
    expect((await done).status).toBe('paused');
    await first.scans.close();
    clock.set('2026-03-03T12:00:00Z');
    const second = openPipeline(config, clock, store);
    expect(second.scans.resumeUnfinished().map((row) => row.id)).toEqual([scan.id]);
    second.scans.checkWindows();
    expect(second.scans.list({ active: true }).map((row) => [row.id, row.status])).toEqual([[scan.id, 'paused']]);
    expect(repo.hostsByState(scan.id, 'pending')).toHaveLength(7);

    // 22:00 in Berlin: it goes on from the stored hosts.
    clock.set('2026-03-03T21:00:00Z');
    second.scans.checkWindows();
    await second.scans.idle();
    const final = repo.get(scan.id)!;
    expect(final.status, final.error ?? '').toBe('completed');
    expect(final.paused_until).toBeNull();
    expect(repo.hostsByState(scan.id, 'pending')).toEqual([]);
    expect(repo.hostsByState(scan.id, 'done')).toHaveLength(14);
    expect(ssh.connections()).toBe(probesAtPause);

    // Each host reported to the control plane once; every progress report at or above the one before.
    const reports = outbox.pending(0, 100_000);
    const hostReports = reports.filter((row) => row.type === 'host').map((row) => (JSON.parse(row.payload) as { ip: string }).ip);
    expect(hostReports.sort()).toEqual([...new Set(hostReports)].sort());
    expect(hostReports).toHaveLength(14);
    const percents = reports.filter((row) => row.type === 'scan.progress').map((row) => (JSON.parse(row.payload) as { percent: number }).percent);
    expect(percents.length).toBeGreaterThan(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(statuses().map((s) => s.status)).toEqual(['queued', 'scanning', 'paused', 'scanning']);
    expect(repo.events(scan.id).map((event) => event.message)).toContain('Window open: resuming scan (7 hosts already done)');
  });

  it('starts a slot fired in closed hours paused, sends nothing until the opening, then runs whole', async () => {
    const ssh = await startFakeService({ host: sshd, port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
    const config = site(tempDir());
    // Monday 12:00 in Berlin: closed until 22:00.
    const clock = new FakeClock(new Date('2026-03-02T11:00:00Z'));
    const { logger } = captureLogger('warn');
    const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
    onTestFinished(() => store.close());
    const repo = new ScanRepository(store.db);
    const { scans, schedule } = openPipeline(config, clock, store);
    const { scan, done } = scans.start(slotSpec(schedule(), '2026-03-02T11:00:00.000Z', siteId));
    expect(repo.get(scan.id)).toMatchObject({ status: 'paused', paused_until: '2026-03-02T21:00:00.000Z' });
    clock.set('2026-03-02T20:59:59Z');
    scans.checkWindows();
    expect(repo.get(scan.id)?.status).toBe('paused');
    expect(ssh.connections()).toBe(0);
    clock.set('2026-03-02T21:00:00Z');
    scans.checkWindows();
    const final = await done;
    expect(final.status, final.error ?? '').toBe('completed');
    expect(repo.hostsByState(scan.id, 'done')).toHaveLength(14);
    expect(ssh.connections()).toBeGreaterThan(0);
    expect(
      repo
        .events(scan.id)
        .map((event) => event.message)
        .slice(0, 2),
    ).toEqual(['paused: window closed, resumes at 2026-03-02T22:00:00+01:00', 'Scan started: 127.0.150.0/28']);
  });

  it('starts a slot fired in closed hours paused, and a stop ends it without a packet sent', async () => {
    const ssh = await startFakeService({ host: sshd, port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
    const config = site(tempDir());
    // Monday 12:00 in Berlin: closed until 22:00.
    const clock = new FakeClock(new Date('2026-03-02T11:00:00Z'));
    const { logger } = captureLogger('warn');
    const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
    onTestFinished(() => store.close());
    const repo = new ScanRepository(store.db);
    const { scans, schedule } = openPipeline(config, clock, store);
    const { scan, done } = scans.start(slotSpec(schedule(), '2026-03-02T11:00:00.000Z', siteId));
    expect(repo.get(scan.id)).toMatchObject({ status: 'paused', paused_until: '2026-03-02T21:00:00.000Z', started_at: null });
    scans.checkWindows();
    expect(repo.get(scan.id)?.status).toBe('paused');
    expect(scans.stop(scan.id)).toBe(true);
    const ended = await done;
    expect(ended).toMatchObject({ status: 'failed', error: 'stopped on request', paused_until: null });
    expect(repo.events(scan.id).map((event) => event.message)).toEqual([
      'paused: window closed, resumes at 2026-03-02T22:00:00+01:00',
      'Scan stopped on request while paused; 0 hosts done were kept',
    ]);
    expect(ssh.connections()).toBe(0);
  });
});

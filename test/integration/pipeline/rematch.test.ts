import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { buildConfig } from '../../../src/agent/config/load.js';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { cliSpec, openScans } from '../../../src/agent/pipeline/index.js';
import { rematchSpec } from '../../../src/agent/pipeline/adapters/rematch.js';
import { createRematchService } from '../../../src/agent/pipeline/rematch-service.js';
import { ScanRepository } from '../../../src/agent/pipeline/scan-repository.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { openStore } from '../../../src/agent/store/database.js';
import { MetaRepository } from '../../../src/agent/store/meta-repository.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { applyDelta, type DeltaLine } from '../../../src/cve/delta.js';
import { importBatch } from '../../../src/cve/import.js';
import { systemClock } from '../../../src/shared/clock.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { allRealRecords, realRecord } from '../../unit/cve/fixtures.js';
import { ManualTimers } from '../uplink/manual-timers.js';

const scheduleId = '0d2f8a4e-6b1c-4e7a-9f3d-5c8b7a6e4d21';
const siteId = '3f6c2b1a-8d4e-4c7f-a5b9-2e1d0c9b8a74';
/** A CVE of OpenSSH before 9.6 that the site's cve.db lacks until a delta brings it. */
const arriving = 'CVE-2023-51385';

/** Every TCP connect and UDP datagram any code in this process makes: the scanner's only ways out (scan/guarded-net.ts). */
function packetCounter() {
  const connects = vi.spyOn(net.Socket.prototype, 'connect');
  const datagrams = vi.spyOn(dgram.Socket.prototype, 'send');
  const udpConnects = vi.spyOn(dgram.Socket.prototype, 'connect');
  onTestFinished(() => {
    vi.restoreAllMocks();
  });
  return {
    count: () => connects.mock.calls.length + datagrams.mock.calls.length + udpConnects.mock.calls.length,
    reset() {
      connects.mockClear();
      datagrams.mockClear();
      udpConnects.mockClear();
    },
  };
}

/**
 * A site whose cve.db holds the real records but CVE-2023-51385, an OpenSSH 7.4 box on loopback,
 * and one real scan of it (the stored services a re-match judges again).
 */
async function scannedSite() {
  const ssh = await startFakeService({ host: '127.0.145.2', port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
  // A Debian bookworm build: the tracker decides whether CVE-2023-51385 is patched on it.
  const debian = await startFakeService({ host: '127.0.145.3', port: 2222, greeting: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n' });
  onTestFinished(async () => {
    await ssh.close();
    await debian.close();
  });
  const dataDir = tempDir();
  const { config } = buildConfig(
    {
      site_id: siteId,
      subnets: ['127.0.145.0/29'],
      schedules: [
        { id: scheduleId, description: 'rematch', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, timezone: 'UTC', min_cvss: 4, warning_threshold: 7 },
      ],
    },
    undefined,
    { env: {}, dataDir },
  );
  const { logger } = captureLogger('warn');
  // Not empty, so the starter feed (which holds CVE-2023-51385) is not loaded over it.
  const cveDb = openCveDatabase({ stateDir: config.state_dir, logger });
  importBatch(
    cveDb.store,
    allRealRecords().filter((record) => record.id !== arriving),
    { source: 'test', logger },
  );
  const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock: systemClock, logger }).syncFromConfig(config.schedules);
  const site = new MetaRepository(store.db).siteId(config.site_id);
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId: site, overrides: { ports: '2222', udp: false } });
  onTestFinished(async () => {
    await scans.close();
    store.close();
    cveDb.close();
  });
  const packets = packetCounter();
  const first = await scans.start(cliSpec(schedules.get(scheduleId)!, site, undefined)).done;
  expect(first.status, first.error ?? '').toBe('completed');
  // The counter sees the scanner's packets: without it, "no packet" below would prove nothing.
  expect(packets.count()).toBeGreaterThan(0);
  packets.reset();
  let version = 0;
  /** A feed delta as the uplink applies it. */
  const delta = (lines: DeltaLine[]) => {
    version += 1;
    applyDelta(
      cveDb.db,
      { header: { format: 'edge-cve-delta/1', from: version - 1, to: version, created_at: new Date().toISOString(), data_as_of: {}, replace: [] }, lines },
      logger,
    );
  };
  const repo = new ScanRepository(store.db);
  const rematch = async (trigger: string) => {
    const spec = rematchSpec(repo.latestDevices(), site, trigger);
    expect(spec).toBeDefined();
    return scans.start(spec!).done;
  };
  return { store, scans, repo, packets, delta, rematch, firstScan: first, site, dataDir: config.state_dir, logger };
}

/** The daemon's re-match service on the site's stores: looks every 5 s, runs after 10 s of quiet, 30 s at most. */
const rematchService = (site: Awaited<ReturnType<typeof scannedSite>>, timers: ManualTimers) =>
  createRematchService({
    db: site.store.db,
    stateDir: site.dataDir,
    siteId: site.site,
    scans: () => site.scans,
    logger: site.logger,
    timers,
    intervalMs: 5_000,
    quietMs: 10_000,
    maxWaitMs: 30_000,
  });

const outboxOf = (store: { db: ConstructorParameters<typeof OutboxRepository>[0] }, runId: string) =>
  new OutboxRepository(store.db)
    .pending(0, 100_000)
    .map((row) => ({ type: row.type, payload: JSON.parse(row.payload) as Record<string, unknown> }))
    .filter((row) => row.payload.run_id === runId);

describe('re-match: new CVE data judged against stored services, without a packet', () => {
  it('a delta adding a CVE for a service already seen gives a re-match run with it new in the delta and the outbox, and no packet', async () => {
    const site = await scannedSite();
    const before = site.scans.report(site.firstScan.id)!;
    const box = before.hosts.find((host) => host.ip === '127.0.145.2')!;
    expect(box.findings.map((finding) => finding.cve_id)).not.toContain(arriving);
    expect(box.findings.length).toBeGreaterThan(0);

    site.delta([{ t: 'nvd', record: realRecord(arriving) }]);
    const run = await site.rematch('feed delta 0→1: 1 CVEs added');

    expect(run).toMatchObject({ status: 'completed', origin: 're-match', trigger: 'feed delta 0→1: 1 CVEs added', schedule_id: null });
    expect(site.packets.count()).toBe(0);
    const report = site.scans.report(run.id)!;
    expect(report.delta.previous_scan_id).toBe(site.firstScan.id);
    expect(report.delta.new).toEqual([expect.objectContaining({ ip: '127.0.145.2', cve_id: arriving })]);
    expect(report.delta.fixed).toEqual([]);
    // Every finding the device had is still there, judged again.
    expect(
      report.delta.still_open
        .filter((entry) => entry.ip === '127.0.145.2')
        .map((entry) => entry.cve_id)
        .sort(),
    ).toEqual(box.findings.map((finding) => finding.cve_id).sort());
    expect(report.hosts.find((host) => host.ip === '127.0.145.2')?.services).toEqual(box.services);

    // Upstream, as any scan: queued, scanning, the device with its findings (the new one once), finished.
    const sent = outboxOf(site.store, run.id);
    const statuses = sent.filter((row) => row.type === 'scan.status');
    expect(statuses.map((row) => row.payload.status)).toEqual(['queued', 'scanning']);
    expect(statuses[0]?.payload).toMatchObject({ origin: 're-match', trigger: 'feed delta 0→1: 1 CVEs added', schedule_id: null });
    // Every device the scan stored is listed (loopback answers on each address), with or without findings.
    const devices = before.hosts.map((host) => host.ip).sort();
    expect(devices.length).toBeGreaterThan(1);
    expect(
      sent
        .filter((row) => row.type === 'host')
        .map((row) => String(row.payload.ip))
        .sort(),
    ).toEqual(devices);
    expect(
      sent.filter((row) => row.type === 'finding' && row.payload.ip === '127.0.145.2' && (row.payload.cve as { id: string }).id === arriving),
    ).toHaveLength(1);
    expect(sent.at(-1)).toMatchObject({ type: 'scan.finished', payload: { status: 'completed', hosts_scanned: devices.length } });
    expect(run).toMatchObject({ hosts_total: devices.length, hosts_done: devices.length, progress: 100 });
    expect(report.events.map((event) => event.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Re-match started \(feed delta 0→1/), `127.0.145.2: new ${arriving}`]),
    );
    expect(report.coverage.router.state).toBe('not_read');
  });

  it('a delta that removes the match (the CVE rejected) closes the finding in the next re-match', async () => {
    const site = await scannedSite();
    site.delta([{ t: 'nvd', record: realRecord(arriving) }]);
    const opened = await site.rematch('feed delta 0→1');
    expect(site.scans.report(opened.id)!.delta.new.map((entry) => entry.cve_id)).toEqual([arriving]);

    const rejected = { ...realRecord(arriving), vulnStatus: 'Rejected', lastModified: '2026-12-01T00:00:00.000' };
    site.delta([{ t: 'nvd', record: rejected }]);
    const closed = await site.rematch('feed delta 1→2: 1 rejected');

    expect(closed.status).toBe('completed');
    expect(site.packets.count()).toBe(0);
    const report = site.scans.report(closed.id)!;
    // Compared with the device's latest record: the previous re-match.
    expect(report.delta.previous_scan_id).toBe(opened.id);
    expect(report.delta.fixed).toEqual([expect.objectContaining({ ip: '127.0.145.2', cve_id: arriving })]);
    expect(report.delta.new).toEqual([]);
    // The device is still reported, without that CVE: what the control plane needs to close it.
    const sent = outboxOf(site.store, closed.id);
    expect(sent.filter((row) => row.type === 'host').map((row) => row.payload.ip)).toContain('127.0.145.2');
    expect(sent.filter((row) => row.type === 'finding').map((row) => (row.payload.cve as { id: string }).id)).not.toContain(arriving);
    expect(report.events.map((event) => event.message)).toContain(`127.0.145.2: closed ${arriving}`);
  });

  it('a tracker verdict changed to "fixed" for the build closes the finding', async () => {
    const site = await scannedSite();
    const verdict = (status: 'vulnerable' | 'fixed') => ({
      t: 'distro_status' as const,
      row: {
        distro: 'debian',
        release: 'bookworm',
        package: 'openssh',
        cve_id: arriving,
        status,
        fixed_version: status === 'fixed' ? '1:9.2p1-2+deb12u2' : null,
        ref: 'DSA-5586-1',
        note: null,
      },
    });
    site.delta([{ t: 'nvd', record: realRecord(arriving) }, verdict('vulnerable')]);
    const opened = await site.rematch('feed delta 0→1');
    expect(site.scans.report(opened.id)!.delta.new).toContainEqual(expect.objectContaining({ ip: '127.0.145.3', cve_id: arriving }));

    site.delta([verdict('fixed')]);
    const closed = await site.rematch('feed delta 1→2: 1 KEV/EPSS/tracker rows');
    const report = site.scans.report(closed.id)!;
    expect(site.packets.count()).toBe(0);
    expect(report.delta.fixed).toEqual([expect.objectContaining({ ip: '127.0.145.3', cve_id: arriving })]);
    // Listed as patched by Debian, no longer counted.
    expect(report.hosts.find((host) => host.ip === '127.0.145.3')?.patched.map((finding) => finding.cve_id)).toContain(arriving);
  });

  it('several deltas in a burst make one re-match, within a minute of the data arriving', async () => {
    const site = await scannedSite();
    const timers = new ManualTimers();
    const service = rematchService(site, timers);
    service.start();
    onTestFinished(() => service.stop());
    const rematches = () => site.scans.list().filter((scan) => scan.origin === 're-match');

    site.delta([{ t: 'nvd', record: realRecord(arriving) }]);
    timers.advance(5_000);
    site.delta([
      { t: 'kev', row: { cve_id: arriving, date_added: '2026-12-06', due_date: null, ransomware: 0, vendor: 'OpenBSD', product: 'OpenSSH', name: 'x' } },
    ]);
    timers.advance(5_000);
    site.delta([{ t: 'epss', row: { cve_id: arriving, score: 0.5, percentile: 0.9, score_date: '2026-12-06' } }]);
    timers.advance(14_000);
    // Three deltas seen at 5, 10 and 15 s: still gathering, nothing started.
    expect(rematches()).toHaveLength(0);
    timers.advance(1_000);
    // 25 s after the first arrival (under the minute): one run, named by all three.
    expect(rematches()).toHaveLength(1);
    await service.idle();
    const [run] = rematches();
    expect(run?.trigger).toBe('feed delta 0→1: 1 CVEs added; feed delta 1→2: 1 KEV/EPSS/tracker rows; feed delta 2→3: 1 KEV/EPSS/tracker rows');
    expect(site.scans.get(run!.id)?.status).toBe('completed');
    expect(site.scans.report(run!.id)!.delta.new.map((entry) => entry.cve_id)).toEqual([arriving]);
    expect(site.packets.count()).toBe(0);

    // Nothing new: no further run.
    timers.advance(60_000);
    expect(rematches()).toHaveLength(1);
  });

  it('data noticed but not yet re-matched when the agent stops is re-matched at its next start', async () => {
    const site = await scannedSite();
    const service = (timers: ManualTimers) => rematchService(site, timers);
    const rematches = () => site.scans.list().filter((scan) => scan.origin === 're-match');
    const before = new ManualTimers();
    const first = service(before);
    first.start();
    site.delta([{ t: 'nvd', record: realRecord(arriving) }]);
    // Seen at 5 s; the run would start after 10 s of quiet: the agent stops (or dies) first.
    before.advance(5_000);
    first.stop();
    expect(rematches()).toHaveLength(0);

    const after = new ManualTimers();
    const second = service(after);
    second.start();
    onTestFinished(() => second.stop());
    after.advance(10_000);
    expect(rematches()).toHaveLength(1);
    await second.idle();
    expect(site.scans.report(rematches()[0]!.id)!.delta.new.map((entry) => entry.cve_id)).toEqual([arriving]);
    // Recorded now: a third start finds nothing to do.
    second.stop();
    const again = new ManualTimers();
    const third = service(again);
    third.start();
    onTestFinished(() => third.stop());
    again.advance(60_000);
    expect(rematches()).toHaveLength(1);
  });
});

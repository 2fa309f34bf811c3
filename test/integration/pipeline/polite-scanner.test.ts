import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { StopRequest } from '../../../src/agent/pipeline/runner/outcome.js';
import { createScanRunner } from '../../../src/agent/pipeline/runner/run.js';
import { ScanRepository } from '../../../src/agent/pipeline/scan-repository.js';
import type { RateLimiter } from '../../../src/agent/scan/limits.js';
import { openStore } from '../../../src/agent/store/database.js';
import { generateRouterData, startApiSimulator, startSshSimulator } from '../../simulators/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { tempDir } from '../../helpers/temp.js';
import { oneTrySource, routerSettings } from '../routeros/helpers.js';

/**
 * The polite scanner through the real runner: a RouterOS API simulator on 127.0.155.1 whose
 * CPU load the test sets, a scan of 127.0.155.2 (every port refused: loopback answers at once).
 * Time for the connect rate and the load readings is a ManualClock: in each 100 ms the test
 * moves it on, the limiter lets exactly rate/10 connects through, so counts are compared, not
 * wall time.
 */
const routerHost = '127.0.155.1';
const target = '127.0.155.2';
const configured = 400;
const intervalMs = 2000;
const stepMs = 100;

async function startRun(sim: { port: number }, transport: 'api' | 'ssh' = 'api') {
  const { logger } = captureLogger('warn');
  const store = openStore({ stateDir: tempDir(), logger, exclusive: false });
  onTestFinished(() => store.close());
  const repo = new ScanRepository(store.db);
  const scan = repo.create(
    {
      kind: 'invoke',
      label: 'POL-ITE-SCN',
      schedule_id: null,
      slot_at: null,
      cp_scan_id: null,
      cp_sub_scan_id: null,
      site_id: randomUUID(),
      subnets: [`${target}/32`],
      target_ips: null,
      min_cvss: 0,
      warning_threshold: 7,
      ignore_offline_sites: false,
      with_router: false,
    },
    new Date().toISOString(),
  );
  const clock = new ManualClock();
  const source = oneTrySource(routerSettings({ host: routerHost, port: sim.port, transport }));
  let limiter: RateLimiter | undefined;
  const runner = createScanRunner({
    scans: repo,
    clock,
    logger,
    readInventory: source.readInventory,
    routerLoad: { open: () => source.openLoadReader(), settings: { ceilingPercent: 70, intervalMs, minConnectsPerSecond: 10 } },
    rateClock: clock,
    watchRate: (rate) => (limiter = rate),
    scanSettings: { connectsPerSecond: configured },
    ports: '1-20000',
    udp: false,
  });
  const controller = new AbortController();
  const done = runner.run(scan.id, controller.signal);
  await vi.waitFor(() => expect(limiter).toBeDefined(), { timeout: 10_000 });
  const rate = limiter as RateLimiter;

  /** Until the scanner is parked on the limiter again: every token the clock gave out is spent. */
  const settle = async () => {
    for (let stable = 0, last = -1, tries = 0; stable < 3; tries += 1) {
      if (tries > 5000) throw new Error(`the scanner never parked on the limiter (${rate.waiting} waiting, ${rate.passed} passed)`);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (rate.passed === last && rate.waiting > 0) stable += 1;
      else stable = 0;
      last = rate.passed;
    }
  };
  const step = async () => {
    clock.advance(stepMs);
    await settle();
  };
  /** Connects let through while the clock moves on `ms`. */
  const count = async (ms: number) => {
    const from = rate.passed;
    for (let moved = 0; moved < ms; moved += stepMs) await step();
    return rate.passed - from;
  };
  /** Moves the clock on until the polite loop has set the rate to `perSecond` (its reading is real I/O). */
  const untilRate = async (perSecond: number) => {
    for (let moved = 0; rate.perSecond !== perSecond; moved += stepMs) {
      if (moved > 3 * intervalMs) throw new Error(`rate stayed ${rate.perSecond}/s, expected ${perSecond}/s`);
      await step();
      // A reading in flight: give it the time it needs before the clock moves again.
      await vi.waitFor(() => expect(rate.perSecond === perSecond || clock.sleeping > rate.waiting).toBe(true), { timeout: 5000 }).catch(() => undefined);
    }
  };
  const stop = async () => {
    controller.abort(new StopRequest());
    return done;
  };
  return { repo, scan, rate, clock, settle, count, untilRate, stop };
}

describe('the polite scanner', () => {
  it.each(['api', 'ssh'] as const)(
    "slows the connect rate while the router's CPU load is over the ceiling, recovers after, and the report says when and how much (%s)",
    async (transport) => {
      const data = generateRouterData({ arp: 0, leases: 0, neighbors: 0 });
      const sim = transport === 'api' ? await startApiSimulator({ host: routerHost, data }) : await startSshSimulator({ host: routerHost, data });
      onTestFinished(() => sim.stop());
      const run = await startRun(sim, transport);
      await run.settle();
      // The first second spends the bucket's burst; the next is the configured rate.
      await run.count(1000);
      const before = await run.count(1000);

      sim.setCpuLoad(85);
      await run.untilRate(200);
      await run.untilRate(100);
      await run.untilRate(50);
      const during = await run.count(1000);

      sim.setCpuLoad(20);
      await run.untilRate(100);
      await run.untilRate(200);
      await run.untilRate(configured);
      const after = await run.count(1000);

      expect(before).toBeGreaterThan(configured * 0.8);
      expect(during / before).toBeLessThan(0.25);
      expect(after / before).toBeGreaterThan(0.8);

      // Stopped before its one host was done: nothing kept, so failed, as any stopped run.
      const row = await run.stop();
      expect(row).toMatchObject({ status: 'failed', error: 'stopped on request' });
      const notes = run.repo.notes(run.scan.id).connect_rate;
      expect(notes).toMatchObject({ configured, ceiling_percent: 70, unreadable: null });
      expect(notes?.changes.map(({ cpu_load, rate_before, rate_after }) => [cpu_load, rate_before, rate_after])).toEqual([
        [85, 400, 200],
        [85, 200, 100],
        [85, 100, 50],
        [20, 50, 100],
        [20, 100, 200],
        [20, 200, 400],
      ]);
      // Stamped by the run's clock: in order, after the run began.
      const stamps = notes?.changes.map((change) => Date.parse(change.at)) ?? [];
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      expect(stamps[0]).toBeGreaterThan(run.clock.now().getTime() - 60_000);
      const events = run.repo.events(run.scan.id).map((event) => event.message);
      expect(events).toContain('Router CPU 85 % > 70 %: connect rate 400/s → 200/s');
      expect(events).toContain('Router CPU 20 % < 70 %: connect rate 50/s → 100/s (recovering)');
      expect(events).toContain('Router CPU 20 % < 70 %: connect rate 200/s → 400/s, as configured');
      // The load was read on one kept session: the inventory's and the readings' logins only.
      expect(sim.logins.length).toBeLessThanOrEqual(3);
    },
  );

  it('leaves the rate as configured when the router cannot be read, and says so once', async () => {
    const sim = await startApiSimulator({ host: routerHost, data: generateRouterData({ arp: 0, leases: 0, neighbors: 0 }) });
    onTestFinished(() => sim.stop());
    const run = await startRun(sim);
    // The inventory was read; from now on /system/resource is refused.
    sim.setFaults({ trapOn: { '/system/resource': 'not enough permissions (9)' } });
    const readings = () => sim.received.filter((words) => words[0] === '/system/resource/print' && words.includes('=.proplist=cpu-load')).length;
    await run.settle();
    for (let moved = 0; readings() < 4; moved += stepMs) {
      if (moved > 10 * intervalMs) throw new Error(`only ${readings()} readings`);
      await run.count(stepMs);
    }
    const steady = await run.count(1000);
    expect(run.rate.perSecond).toBe(configured);
    expect(steady).toBeGreaterThan(configured * 0.8);

    await run.stop();
    const events = run.repo.events(run.scan.id).filter((event) => event.message.startsWith('Router CPU load could not be read'));
    expect(events).toHaveLength(1);
    expect(events[0]?.message).toMatch(/not enough permissions \(9\).*: connect rate left at 400\/s$/);
    expect(run.repo.notes(run.scan.id).connect_rate).toMatchObject({ changes: [], unreadable: expect.stringContaining('not enough permissions') });
  });
});

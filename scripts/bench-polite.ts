// bench:polite — the polite scanner in real time: the scan runner scans every TCP port of
// 127.0.155.2 (16 hosts from 127.0.155.16 with no limit; all refused: loopback answers at once) while the RouterOS API simulator on
// 127.0.155.1 reports the router's CPU load, 5 % then 85 % (the spike) then 10 %. Prints the
// connect rate the scanner achieved each second (its limiter's own count) beside the rate in
// force, and the mean before / during / after the spike beside the configured rate: once with
// connects_per_second 2000, once with no limit. Run: npm run bench:polite
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildConfig } from '../src/agent/config/load.js';
import { cliSpec, openScans } from '../src/agent/pipeline/index.js';
import type { RateLimiter } from '../src/agent/scan/limits.js';
import { ScheduleService } from '../src/agent/schedule/schedule-service.js';
import { openStore } from '../src/agent/store/database.js';
import { MetaRepository } from '../src/agent/store/meta-repository.js';
import { SchedulesRepository } from '../src/agent/store/schedules-repository.js';
import { systemClock } from '../src/shared/clock.js';
import { startApiSimulator } from '../test/simulators/routeros-api/server.js';
import { generateRouterData } from '../test/simulators/router-data.js';

const routerHost = '127.0.155.1';
const ceilingPercent = 70;
const minConnectsPerSecond = 50;
// Seconds of each phase and the router's CPU load in it.
const phases = [
  { name: 'before', seconds: 5, load: 5 },
  { name: 'during', seconds: 5, load: 85 },
  { name: 'after', seconds: 8, load: 10 },
] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rateText = (value: number) => (value <= 0 ? 'no limit' : `${value}/s`);

const scheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';

/** One run through the agent's own wiring (config -> scans -> engine -> runner), the config's scan.router_load in force. */
async function scenario(configured: number, target: string): Promise<void> {
  const logger = pino({ level: 'silent' });
  const sim = await startApiSimulator({ host: routerHost, data: generateRouterData({ arp: 0, leases: 0, neighbors: 0 }) });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-polite-'));
  const raw = {
    site_id: '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90',
    subnets: [target],
    router: { host: routerHost, port: sim.port, user: 'admin', password: 'secret', ssh_fallback: false },
    scan: {
      udp: false,
      ports: '1-65535',
      connects_per_second: configured,
      router_load: { ceiling_percent: ceilingPercent, check_every: '1s', min_connects_per_second: minConnectsPerSecond },
    },
    schedules: [
      { id: scheduleId, description: 'bench', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, timezone: 'UTC', min_cvss: 0, warning_threshold: 7 },
    ],
  };
  const { config } = buildConfig(raw, undefined, { env: {}, dataDir: stateDir });
  const store = openStore({ stateDir, logger, exclusive: false });
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock: systemClock, logger }).syncFromConfig(config.schedules);
  const siteId = new MetaRepository(store.db).siteId(config.site_id);
  let rate: RateLimiter | undefined;
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId, overrides: { watchRate: (limiter) => (rate = limiter) } });
  const { scan, done } = scans.start(cliSpec(schedules.get(scheduleId)!, siteId, undefined));
  sim.setCpuLoad(phases[0].load);
  while (rate === undefined) await sleep(10);
  const limiter = rate;

  console.log(`\n${target}, connects_per_second ${rateText(configured)}, ceiling ${ceilingPercent} %, load read every 1 s`);
  console.log('  second  phase   router CPU  rate in force  connects/s');
  const means: Record<string, number[]> = {};
  let second = 0;
  for (const phase of phases) {
    sim.setCpuLoad(phase.load);
    for (let i = 0; i < phase.seconds; i += 1) {
      const from = limiter.passed;
      const at = performance.now();
      await sleep(1000);
      const perSecond = Math.round(((limiter.passed - from) * 1000) / (performance.now() - at));
      second += 1;
      // The first second of each phase is the change settling; the last two are the figure.
      if (i >= phase.seconds - 2) (means[phase.name] ??= []).push(perSecond);
      console.log(
        `  ${String(second).padStart(6)}  ${phase.name.padEnd(6)}  ${`${phase.load} %`.padStart(10)}  ${rateText(limiter.perSecond).padStart(13)}  ${String(perSecond).padStart(10)}`,
      );
    }
  }
  scans.stop(scan.id);
  await done;
  const mean = (name: string) => Math.round((means[name] ?? []).reduce((sum, value) => sum + value, 0) / (means[name]?.length ?? 1));
  console.log(
    `  connect rate (mean of each phase's last 2 s): before ${mean('before')}/s, during the spike ${mean('during')}/s, after ${mean('after')}/s; configured ${rateText(configured)}, floor ${minConnectsPerSecond}/s`,
  );
  const changes = scans.report(scan.id)?.connect_rate?.changes ?? [];
  console.log(
    `  rate changes in the report: ${changes.map((change) => `${change.cpu_load} % ${rateText(change.rate_before)}→${rateText(change.rate_after)}`).join(', ')}`,
  );
  await scans.close();
  store.close();
  rmSync(stateDir, { recursive: true, force: true });
  await sim.stop();
}

await scenario(2000, '127.0.155.2/32');
await scenario(0, '127.0.155.16/28');

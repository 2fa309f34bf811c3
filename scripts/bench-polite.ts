// bench:polite — the polite scanner in real time: the scan runner scans every TCP port of
// 127.0.155.2 (16 hosts from 127.0.155.16 with no limit; all refused: loopback answers at once) while the RouterOS API simulator on
// 127.0.155.1 reports the router's CPU load, 5 % then 85 % (the spike) then 10 %. Prints the
// connect rate the scanner achieved each second (its limiter's own count) beside the rate in
// force, and the mean before / during / after the spike beside the configured rate: once with
// connects_per_second 2000, once with no limit. Run: npm run bench:polite
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createScanRunner } from '../src/agent/pipeline/runner/run.js';
import { StopRequest } from '../src/agent/pipeline/runner/outcome.js';
import { ScanRepository } from '../src/agent/pipeline/scan-repository.js';
import { createRouterSource } from '../src/agent/routeros/index.js';
import type { RateLimiter } from '../src/agent/scan/limits.js';
import { openStore } from '../src/agent/store/database.js';
import { systemClock } from '../src/shared/clock.js';
import { startApiSimulator } from '../test/simulators/routeros-api/server.js';
import { generateRouterData } from '../test/simulators/router-data.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const routerHost = '127.0.155.1';
const settings = { ceilingPercent: 70, intervalMs: 1000, minConnectsPerSecond: 50 };
// Seconds of each phase and the router's CPU load in it.
const phases = [
  { name: 'before', seconds: 5, load: 5 },
  { name: 'during', seconds: 5, load: 85 },
  { name: 'after', seconds: 8, load: 10 },
] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rateText = (value: number) => (value <= 0 ? 'no limit' : `${value}/s`);

async function scenario(configured: number, target: string): Promise<void> {
  const logger = pino({ level: 'silent' });
  const sim = await startApiSimulator({ host: routerHost, data: generateRouterData({ arp: 0, leases: 0, neighbors: 0 }) });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-polite-'));
  const store = openStore({ stateDir, logger, exclusive: false });
  const repo = new ScanRepository(store.db);
  const scan = repo.create(
    {
      kind: 'invoke',
      label: 'BEN-CHP-OLT',
      schedule_id: null,
      slot_at: null,
      cp_scan_id: null,
      cp_sub_scan_id: null,
      site_id: randomUUID(),
      subnets: [target],
      target_ips: null,
      min_cvss: 0,
      warning_threshold: 7,
      ignore_offline_sites: false,
      with_router: false,
    },
    new Date().toISOString(),
  );
  const source = createRouterSource({
    settings: { host: routerHost, port: sim.port, transport: 'api', user: 'admin', password: 'secret', tls: undefined, ssh_fallback: false, ssh_port: 22, timeout_seconds: 5 },
    logger,
    vendors: { vendorOf: () => undefined },
  });
  let rate: RateLimiter | undefined;
  const runner = createScanRunner({
    scans: repo,
    clock: systemClock,
    logger,
    readInventory: source.readInventory,
    routerLoad: { open: () => source.openLoadReader(), settings },
    watchRate: (limiter) => (rate = limiter),
    scanSettings: { connectsPerSecond: configured },
    ports: '1-65535',
    udp: false,
  });
  sim.setCpuLoad(phases[0].load);
  const controller = new AbortController();
  const done = runner.run(scan.id, controller.signal);
  while (rate === undefined) await sleep(10);
  const limiter = rate;

  console.log(`\n${target}, connects_per_second ${rateText(configured)}, ceiling ${settings.ceilingPercent} %, load read every ${settings.intervalMs} ms`);
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
      console.log(`  ${String(second).padStart(6)}  ${phase.name.padEnd(6)}  ${`${phase.load} %`.padStart(10)}  ${rateText(limiter.perSecond).padStart(13)}  ${String(perSecond).padStart(10)}`);
    }
  }
  controller.abort(new StopRequest());
  await done;
  const mean = (name: string) => Math.round((means[name] ?? []).reduce((sum, value) => sum + value, 0) / (means[name]?.length ?? 1));
  console.log(
    `  connect rate (mean of each phase's last 2 s): before ${mean('before')}/s, during the spike ${mean('during')}/s, after ${mean('after')}/s; configured ${rateText(configured)}, floor ${settings.minConnectsPerSecond}/s`,
  );
  const changes = repo.notes(scan.id).connect_rate?.changes ?? [];
  console.log(`  rate changes in the report: ${changes.map((change) => `${change.cpu_load} % ${rateText(change.rate_before)}→${rateText(change.rate_after)}`).join(', ')}`);
  store.close();
  rmSync(stateDir, { recursive: true, force: true });
  await sim.stop();
}

await scenario(2000, '127.0.155.2/32');
await scenario(0, '127.0.155.16/28');

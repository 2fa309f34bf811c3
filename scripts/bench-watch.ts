// bench:watch — how fast the site reacts to a new device: from a DHCP lease added at the RouterOS
// API simulator (streamed to the agent by `listen`) to the micro-scan's first scan.status at the
// control plane, and to its completed report there. The whole system on loopback (the demo's:
// control plane, agent, router simulator), the watch with its shipped settings (debounce 5 s).
// The median of a few runs beside the aim of 30 s. Run: npm run bench:watch
import pino from 'pino';
import { startDemoSystem } from '../test/helpers/demo-system.js';

const runs = Number(process.env.BENCH_WATCH_RUNS ?? 5);
const aimMs = 30_000;
const net = '127.0.142';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const system = await startDemoSystem({
  net,
  bindHost: `${net}.1`,
  logger: pino({ level: 'silent' }),
  agentConfig: { watch: { enabled: true } },
});
try {
  for (let i = 0; i < 200 && (system.agent.watch?.watcher.baselines ?? 0) < 1; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  const toStatus: number[] = [];
  const toReport: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const mac = `02:00:00:00:42:${(run + 16).toString(16).toUpperCase()}`;
    const ip = `${net}.${20 + run}`;
    const addedAt = performance.now();
    system.router.addRow('/ip/dhcp-server/lease', { address: ip, 'mac-address': mac, 'active-address': ip, 'active-mac-address': mac, status: 'bound' });
    let statusAt: number | undefined;
    for (;;) {
      // The control plane's store, as its REST API reads it (polling the API itself would meet its rate limit).
      const scans = await system.store.scans.list(system.org);
      const scan = scans.find((candidate) => candidate.trigger?.includes(mac) === true);
      statusAt ??= scan === undefined ? undefined : performance.now();
      if (scan !== undefined && ['completed', 'partial', 'failed'].includes(scan.status)) break;
      if (performance.now() - addedAt > 120_000) throw new Error(`no watch scan for ${mac} after 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    toStatus.push((statusAt as number) - addedAt);
    toReport.push(performance.now() - addedAt);
    console.log(
      `run ${run + 1}: lease ${ip} -> scan.status at the control plane ${seconds(toStatus.at(-1) as number)}, completed ${seconds(toReport.at(-1) as number)}`,
    );
  }
  console.log('');
  console.log(`lease added -> micro-scan scan.status at the control plane: median ${seconds(median(toStatus))} of ${runs} (aim: within ${seconds(aimMs)})`);
  console.log(
    `lease added -> micro-scan completed at the control plane:   median ${seconds(median(toReport))} (debounce ${seconds(system.agent.config.watch.debounce)})`,
  );
} finally {
  await system.stop();
}

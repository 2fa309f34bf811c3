// The agent's side of bench:router, in its own process so its memory is its own: reads the
// full inventory `runs` times from the simulator named on the command line and prints one
// JSON line with each read's wall time and the process's resident memory.
import pino from 'pino';
import { createRouterSource, openOuiTable } from '../src/agent/routeros/index.js';

const [transport, port, runs] = process.argv.slice(2) as ['api' | 'ssh', string, string];
const vendors = openOuiTable();
const source = createRouterSource({
  settings: {
    host: '127.0.0.1',
    transport,
    port: Number(port),
    user: 'admin',
    password: 'secret',
    tls: undefined,
    ssh_fallback: false,
    ssh_port: 22,
    timeout_seconds: 60,
  },
  logger: pino({ level: 'silent' }),
  vendors,
  retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
});
const rssBeforeMb = process.memoryUsage().rss / 1048576;
const times: number[] = [];
let hosts = 0;
let neighbors = 0;
for (let i = 0; i < Number(runs); i++) {
  const started = performance.now();
  const inventory = await source.readInventory(AbortSignal.timeout(120_000));
  times.push(performance.now() - started);
  hosts = inventory.hosts.length;
  neighbors = inventory.neighbors.length;
}
// ru_maxrss is in KiB on Linux: the peak over the whole process life, reads included.
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ times, hosts, neighbors, rssBeforeMb, peakRssMb })}\n`);

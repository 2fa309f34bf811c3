// The agent's side of bench:router, in its own process so its memory is its own: reads the
// full inventory `runs` times from the simulator named on the command line, with the built
// agent of the checkout at `root` (dist/, as it ships), and prints one JSON line with each
// read's wall time and the process's resident memory. A checkout from before the on-disk OUI
// table (loadOuiRegistry) is measured too, so a baseline tree can run beside this one.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, transport, port, runs] = process.argv.slice(2);
const routeros = await import(pathToFileURL(path.join(root, 'dist/agent/routeros/index.js')).href);
const { default: pino } = await import(pathToFileURL(path.join(root, 'node_modules/pino/pino.js')).href);
const vendors = routeros.openOuiTable ? routeros.openOuiTable() : routeros.loadOuiRegistry();
const source = routeros.createRouterSource({
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
const times = [];
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

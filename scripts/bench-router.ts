// bench:router — a full inventory read (5,000 ARP entries, 5,000 leases, 500 neighbors, 1,000
// bridge hosts) from the RouterOS simulators on loopback, over the API and over SSH, with the
// agent's peak RSS beside the figure before the on-disk OUI table and streamed merge (issue 15)
// and its aim of 120 MB; next to python3-librouteros reading the same menus from the same
// simulator (the reference client) and to the aim of 2 s. The agent is the built tree (dist/),
// run with the node options of the systemd unit. BENCH_BASELINE_ROOT=<another built checkout>
// measures that tree's agent in the same run. Run: npm run bench:router
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startApiSimulator } from '../test/simulators/routeros-api/server.js';
import { startSshSimulator } from '../test/simulators/routeros-ssh/server.js';
import { generateRouterData, routerMenus } from '../test/simulators/router-data.js';
import { unitNodeOptions } from './bench-node-options.mjs';

const runs = 5;
const aimMs = 2000;
const aimPeakMb = 120;
// Measured with this script at commit 7bdc041 (before the on-disk OUI table and the streamed
// merge; its agent then ran under tsx, which adds ~25 MB), on the shared 2-CPU dev VM, 2026-12-05.
const beforePeakMb = { api: 197.6, ssh: 222.1 };
const baselineRoot = process.env.BENCH_BASELINE_ROOT;
const size = { arp: 5000, leases: 5000, neighbors: 500, bridgeHosts: 1000 };
const agentScript = fileURLToPath(new URL('./bench-router-agent.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

interface AgentRun {
  times: number[];
  hosts: number;
  neighbors: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

/** The agent side runs in a child so its RSS is not the simulator's; asynchronous, since the simulator answers from here. */
function runAgent(transport: 'api' | 'ssh', port: number, tree = root): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...unitNodeOptions(), agentScript, tree, transport, String(port), String(runs)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as AgentRun) : reject(new Error(`agent exited ${code}: ${err}`))));
  });
}

const librouterosScript = String.raw`
import json, sys, time
import librouteros
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    api = librouteros.connect(host='127.0.0.1', port=int(sys.argv[1]), username='admin', password='secret', timeout=60)
    rows = sum(len(list(api(menu + '/print'))) for menu in sys.argv[3].split(','))
    api.close()
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({'times': times, 'rows': rows}))
`;

async function runLibrouteros(port: number): Promise<{ times: number[]; rows: number }> {
  const { stdout } = await promisify(execFile)(
    '/usr/bin/python3',
    ['-c', librouterosScript, String(port), String(runs), routerMenus.filter((menu) => menu in data.menus).join(',')],
    {
      timeout: 300_000,
    },
  );
  return JSON.parse(stdout) as { times: number[]; rows: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const ms = (value: number) => `${value.toFixed(0).padStart(6)} ms`;

const data = generateRouterData(size);
const api = await startApiSimulator({ data });
const ssh = await startSshSimulator({ data });
try {
  const rows = Object.values(data.menus).reduce((sum, table) => sum + table.length, 0);
  console.log(
    `bench:router — ${size.arp} ARP, ${size.leases} leases, ${size.neighbors} neighbors, ${size.bridgeHosts} bridge hosts (${rows} rows), simulators on 127.0.0.1, median of ${runs} reads`,
  );
  const overApi = await runAgent('api', api.port);
  const reference = await runLibrouteros(api.port);
  const overSsh = await runAgent('ssh', ssh.port);
  const apiMs = median(overApi.times);
  const sshMs = median(overSsh.times);
  const refMs = median(reference.times);
  console.log('');
  const label = (text: string) => text.padEnd(46);
  const row = (name: string, times: number[], ratio: string) =>
    console.log(`${label(name)}${ms(median(times))} ${ms(Math.min(...times))} ${ms(Math.max(...times))}   ${ratio}`);
  console.log(`${label('')}${'median'.padStart(9)} ${'min'.padStart(9)} ${'max'.padStart(9)}   ratio`);
  row(`agent, API (read + merge ${overApi.hosts} hosts)`, overApi.times, '');
  row('python3-librouteros, API (read only)', reference.times, `agent/librouteros = ${(apiMs / refMs).toFixed(2)}`);
  console.log(`${label('aim, API')}${ms(aimMs)} ${' '.repeat(19)}   agent/aim = ${(apiMs / aimMs).toFixed(2)}`);
  row(`agent, SSH (read + merge ${overSsh.hosts} hosts)`, overSsh.times, `ssh/api = ${(sshMs / apiMs).toFixed(2)}, ssh/aim = ${(sshMs / aimMs).toFixed(2)}`);
  console.log('');
  const peak = (name: string, run: AgentRun, before: number) =>
    console.log(
      `${label(`agent peak RSS, ${name}`)}${run.peakRssMb.toFixed(1).padStart(6)} MB   before: ${before.toFixed(1)} MB   aim: ${aimPeakMb} MB   peak/aim = ${(run.peakRssMb / aimPeakMb).toFixed(2)}   (${run.rssBeforeMb.toFixed(1)} MB before the first read)`,
    );
  console.log(`node options (from systemd/cve-agent.service): ${unitNodeOptions().join(' ') || '(none)'}`);
  peak('API', overApi, beforePeakMb.api);
  peak('SSH', overSsh, beforePeakMb.ssh);
  if (baselineRoot !== undefined) {
    const baseApi = await runAgent('api', api.port, baselineRoot);
    const baseSsh = await runAgent('ssh', ssh.port, baselineRoot);
    console.log(`${label(`baseline tree, API`)}${baseApi.peakRssMb.toFixed(1).padStart(6)} MB (${baselineRoot}, same run, same options)`);
    console.log(`${label(`baseline tree, SSH`)}${baseSsh.peakRssMb.toFixed(1).padStart(6)} MB`);
  }
  console.log(
    `rows read by librouteros per run: ${reference.rows}; hosts merged: ${overApi.hosts} (API), ${overSsh.hosts} (SSH); neighbors ${overApi.neighbors}`,
  );
} finally {
  await api.stop();
  await ssh.stop();
}

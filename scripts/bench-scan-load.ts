// bench:scan-load — the same full site scan of the loopback lab (the pipeline: `cve-agent scan
// --schedule`, with its SQLite writes), 10 times on a quiet box and 10 times beside two processes
// that burn a CPU each. Prints, per run, the open ports and live hosts it found (they must be the
// same in every run) and the wall time; then the loaded/quiet time ratio. Exits 1 if any run saw
// a different set of open ports or live hosts. Run: npm run bench:scan-load [-- --runs N]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab } from '../test/lab/lab.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'dist/cli/cve-agent.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const BURNERS = 2;

interface Run {
  wallS: number;
  openPorts: string[];
  liveHosts: number;
}

interface Report {
  status: string;
  summary: { hosts_scanned: number };
  hosts: { ip: string; services: { port: number | null; protocol: string | null }[] }[];
}

function scanOnce(config: string, scheduleId: string): Run {
  const started = performance.now();
  const out = execFileSync(process.execPath, [cli, '--config', config, '--json', 'scan', '--schedule', scheduleId], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallS = (performance.now() - started) / 1000;
  const report = JSON.parse(out) as Report;
  if (report.status !== 'completed') throw new Error(`scan ended ${report.status}`);
  const openPorts = report.hosts.flatMap((host) => host.services.filter((s) => s.port !== null).map((s) => `${host.ip}:${s.port}/${s.protocol}`)).sort();
  return { wallS, openPorts, liveHosts: report.summary.hosts_scanned };
}

function burn(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<number> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await using lab = await startLab({ prefix: '127.0.15' });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scan-load-'));
  try {
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, `config_version: 1\nstate_dir: ${dir}/state\nsubnets: [${lab.subnet}]\nlog_level: error\n`);
    const added = JSON.parse(
      execFileSync(
        process.execPath,
        [cli, '--config', config, '--json', 'schedules', 'add', '--day', '0', '--time', '03:00', '--every', '2', '--description', 'bench'],
        {
          encoding: 'utf8',
        },
      ),
    ) as { id: string };
    console.log(`lab ${lab.subnet}: ${lab.services.map((s) => s.name).join(', ')}; ${RUNS} runs quiet, then ${RUNS} beside ${BURNERS} CPU burners\n`);
    const results: { phase: string; runs: Run[] }[] = [];
    for (const phase of ['quiet', 'loaded']) {
      const burners = phase === 'loaded' ? Array.from({ length: BURNERS }, burn) : [];
      try {
        const runs: Run[] = [];
        for (let i = 0; i < RUNS; i += 1) {
          const run = scanOnce(config, added.id);
          runs.push(run);
          console.log(
            `${phase.padEnd(6)} run ${String(i + 1).padStart(2)}: ${run.openPorts.length} open ports, ${run.liveHosts} live hosts, ${run.wallS.toFixed(2)} s`,
          );
        }
        results.push({ phase, runs });
      } finally {
        for (const burner of burners) burner.kill('SIGKILL');
      }
    }
    const all = results.flatMap((r) => r.runs);
    const reference = all[0] as Run;
    const differing = all.filter((run) => run.liveHosts !== reference.liveHosts || run.openPorts.join() !== reference.openPorts.join());
    const quiet = median((results[0]?.runs ?? []).map((r) => r.wallS));
    const loaded = median((results[1]?.runs ?? []).map((r) => r.wallS));
    console.log(
      `\nopen ports identical in ${all.length - differing.length} of ${all.length} runs (${reference.openPorts.length} ports, ${reference.liveHosts} live hosts)`,
    );
    for (const run of differing) {
      const missing = reference.openPorts.filter((p) => !run.openPorts.includes(p));
      const extra = run.openPorts.filter((p) => !reference.openPorts.includes(p));
      console.log(`  differs: missing ${missing.join(' ') || '-'}; extra ${extra.join(' ') || '-'}; live hosts ${run.liveHosts}`);
    }
    console.log(`median wall time: quiet ${quiet.toFixed(2)} s, loaded ${loaded.toFixed(2)} s, ratio loaded/quiet ${(loaded / quiet).toFixed(2)}x`);
    return differing.length === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();

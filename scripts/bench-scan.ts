// bench:scan — our scanner next to nmap over the same loopback lab, in one run.
// Starts the lab (real Debian daemons on 127.0.10.0/24), then runs, over the same addresses and
// ports (both skipping host discovery: our --assume-alive is nmap's -Pn): (a) open ports, ours
// `cve-agent scan --assume-alive --no-versions --no-udp` vs `nmap -sT -Pn -n`;
// (b) versions, ours `cve-agent scan` vs `nmap -sT -Pn -n -sV`; then ours alone on a /22 for
// peak RSS; and one more (a) run of ours under `node --cpu-prof`, whose top self-time functions
// are printed (scripts/cpu-profile-top.ts). Wall time, CPU time and peak RSS of each process come
// from getrusage(RUSAGE_CHILDREN) in a tiny python3 wrapper, the same for both tools. Run: npm run bench:scan
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TCP_PORTS } from '../src/agent/scan/ports.js';
import { expandTargets } from '../src/agent/scan/targets.js';
import { startLab, type LabService } from '../test/lab/lab.js';
import { formatTop } from './cpu-profile-top.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'dist/cli/cve-agent.js');
const LAB_PREFIX = '127.0.10';
const WIDE_SUBNET = '127.0.12.0/22';
const RUNS_A = 3;
/** Issue 15's aims: open-port wall time at most 1.5x nmap -sT's, a /22 with the default ports under 120 MB. */
const AIM_RATIO = 1.5;
const AIM_WIDE_RSS_MB = 120;
const PROFILE_TOP = 10;

const measurePy = String.raw`
import resource, subprocess, sys, time
start = time.monotonic()
with open(sys.argv[1], 'wb') as out:
    code = subprocess.call(sys.argv[2:], stdout=out)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print('%d %.3f %.3f %d' % (code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))
`;

interface Measured {
  wallS: number;
  cpuS: number;
  rssMb: number;
  output: string;
}

function measure(dir: string, command: string[]): Measured {
  const outFile = path.join(dir, 'out.txt');
  const line = execFileSync('python3', ['-c', measurePy, outFile, ...command], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
  const [code, wall, cpu, rssKb] = line.split(' ').map(Number) as [number, number, number, number];
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}`);
  const output = execFileSync('cat', [outFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { wallS: wall, cpuS: cpu, rssMb: rssKb / 1024, output };
}

function median(runs: Measured[]): Measured {
  return [...runs].sort((a, b) => a.wallS - b.wallS)[Math.floor(runs.length / 2)] as Measured;
}

function ensureTool(binary: string, debianPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0) return;
  console.log(`installing ${debianPackage} from Debian (policy-rc.d keeps daemons stopped)...`);
  writeFileSync('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', debianPackage], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

interface OurResult {
  hosts: {
    address: string;
    openPorts: { port: number; protocol: string }[];
    services: { port: number; protocol: string; product?: string; version?: string; update?: string }[];
  }[];
}

/** nmap -oG: `Host: 127.0.10.2 ()	Ports: 22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u10 (protocol 2.0)/, ...` */
function parseNmap(grepable: string): Map<string, { port: number; service: string; version: string }[]> {
  const hosts = new Map<string, { port: number; service: string; version: string }[]>();
  for (const line of grepable.split('\n')) {
    const match = /^Host: (\S+) .*Ports: (.*?)(?:\t|$)/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const ports = match[2].split(/, (?=\d+\/)/).flatMap((entry) => {
      const [port, state, , , service, , version] = entry.split('/');
      return state === 'open' ? [{ port: Number(port), service: service ?? '', version: version ?? '' }] : [];
    });
    hosts.set(match[1], ports);
  }
  return hosts;
}

const fmt = (value: number, digits = 2) => value.toFixed(digits);
const ratioLine = (label: string, ours: Measured, nmap: Measured) =>
  `${label.padEnd(34)} ${fmt(ours.wallS).padStart(8)} ${fmt(nmap.wallS).padStart(8)} ${fmt(ours.wallS / nmap.wallS).padStart(6)}   ${fmt(ours.cpuS).padStart(7)} ${fmt(nmap.cpuS).padStart(7)} ${fmt(ours.cpuS / nmap.cpuS).padStart(6)}   ${fmt(ours.rssMb, 1).padStart(7)} ${fmt(nmap.rssMb, 1).padStart(7)} ${fmt(ours.rssMb / nmap.rssMb).padStart(6)}`;

async function main() {
  ensureTool('nmap', 'nmap');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scan-'));
  const lab = await startLab({ prefix: LAB_PREFIX });
  try {
    if (lab.missing.length > 0) console.log(`lab packages missing (left out): ${lab.missing.join(', ')}`);
    const targets = expandTargets([lab.subnet]);
    const targetFile = path.join(dir, 'targets.txt');
    writeFileSync(targetFile, `${targets.join('\n')}\n`);
    const ports = DEFAULT_TCP_PORTS.join(',');
    // --assume-alive is our -Pn: both tools skip host discovery and connect to every port of every address.
    const ours = (extra: string[], nodeFlags: string[] = []) => [
      process.execPath,
      ...nodeFlags,
      cli,
      'scan',
      '--subnet',
      lab.subnet,
      '--ports',
      ports,
      '--json',
      '--assume-alive',
      ...extra,
    ];
    const nmap = (extra: string[]) => ['nmap', '-sT', '-Pn', '-n', '-p', ports, '-iL', targetFile, '-oG', '-', ...extra];

    console.log(`lab: ${lab.services.map((s) => `${s.name}@${s.address}`).join(' ')}`);
    console.log(
      `targets: ${targets.length} addresses of ${lab.subnet} x ${DEFAULT_TCP_PORTS.length} TCP ports (the default list), both tools, same machine, one after the other\n`,
    );

    const oursA: Measured[] = [];
    const nmapA: Measured[] = [];
    for (let run = 0; run < RUNS_A; run += 1) {
      oursA.push(measure(dir, ours(['--no-versions', '--no-udp'])));
      nmapA.push(measure(dir, nmap([])));
    }
    const oursB = measure(dir, ours([]));
    const nmapB = measure(dir, nmap(['-sV']));
    const wide = measure(dir, [process.execPath, cli, 'scan', '--subnet', WIDE_SUBNET, '--json', '--no-udp']);
    // The profile run is apart from the timed ones: the profiler's own cost stays out of the figures.
    const profileDir = path.join(dir, 'profile');
    mkdirSync(profileDir);
    measure(dir, ours(['--no-versions', '--no-udp'], ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]));
    const profileFile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));

    const openOurs = (JSON.parse(median(oursA).output) as OurResult).hosts.reduce((sum, host) => sum + host.openPorts.length, 0);
    const openNmap = [...parseNmap(median(nmapA).output).values()].reduce((sum, list) => sum + list.length, 0);

    console.log(
      `${''.padEnd(34)} ${'wall s'.padStart(8)} ${''.padStart(8)} ${'ratio'.padStart(6)}   ${'cpu s'.padStart(7)} ${''.padStart(7)} ${'ratio'.padStart(6)}   ${'RSS MB'.padStart(7)} ${''.padStart(7)} ${'ratio'.padStart(6)}`,
    );
    console.log(
      `${''.padEnd(34)} ${'ours'.padStart(8)} ${'nmap'.padStart(8)} ${'o/n'.padStart(6)}   ${'ours'.padStart(7)} ${'nmap'.padStart(7)} ${'o/n'.padStart(6)}   ${'ours'.padStart(7)} ${'nmap'.padStart(7)} ${'o/n'.padStart(6)}`,
    );
    console.log(ratioLine(`(a) open ports, median of ${RUNS_A}`, median(oursA), median(nmapA)));
    console.log(ratioLine('(b) versions (-sV)', oursB, nmapB));
    console.log(`\n(a) open TCP ports found: ours ${openOurs}, nmap ${openNmap}`);
    console.log(
      `/22 (${WIDE_SUBNET}, 1022 addresses x ${DEFAULT_TCP_PORTS.length} ports, versions on): ours ${fmt(wide.wallS)} s wall, ${fmt(wide.cpuS)} s CPU, peak RSS ${fmt(wide.rssMb, 1)} MB (aim: at most ${AIM_WIDE_RSS_MB} MB)`,
    );

    const ourHosts = new Map((JSON.parse(oursB.output) as OurResult).hosts.map((host) => [host.address, host]));
    const nmapHosts = parseNmap(nmapB.output);
    const rows: string[][] = [];
    let oursRight = 0;
    let nmapRight = 0;
    const named = (service: LabService, text: string) => text.includes(service.upstreamVersion.replace(/p\d+$/, '')) && text.includes(service.upstreamVersion);
    for (const service of lab.services) {
      for (const { port, protocol } of service.ports) {
        const our = ourHosts.get(service.address)?.services.find((entry) => entry.port === port && entry.protocol === protocol);
        const ourText = our ? `${our.product ?? '?'} ${[our.version, our.update].filter(Boolean).join('') || '(no version)'}` : '(not found)';
        const their = protocol === 'tcp' ? nmapHosts.get(service.address)?.find((entry) => entry.port === port) : undefined;
        const theirText = protocol === 'udp' ? '(UDP not scanned)' : their ? `${their.version || `${their.service} (no version)`}` : '(not found)';
        const ourOk = our !== undefined && `${our.version ?? ''}${our.update ?? ''}` === service.upstreamVersion;
        const theirOk = their !== undefined && named(service, their.version);
        if (protocol === 'tcp') {
          oursRight += ourOk ? 1 : 0;
          nmapRight += theirOk ? 1 : 0;
        }
        rows.push([
          `${service.address}:${port}/${protocol}`,
          `${service.package} ${service.debianVersion}`,
          `${ourOk ? '✓' : '✗'} ${ourText}`,
          `${protocol === 'udp' ? ' ' : theirOk ? '✓' : '✗'} ${theirText}`,
        ]);
      }
    }
    const header = ['port', 'installed (dpkg-query)', 'ours', 'nmap -sV'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
    const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
    console.log(`\n${line(header)}`);
    for (const row of rows) console.log(line(row));
    console.log(`\nTCP services named with the installed version: ours ${oursRight}, nmap ${nmapRight}`);
    console.log(`\nCPU profile of ours, (a) open ports (node --cpu-prof, one extra run):`);
    console.log(profileFile ? formatTop(path.join(profileDir, profileFile), PROFILE_TOP) : '  (no profile written)');
    const aWall = median(oursA).wallS / median(nmapA).wallS;
    const aCpu = median(oursA).cpuS / median(nmapA).cpuS;
    const bWall = oursB.wallS / nmapB.wallS;
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    console.log(`\naims:`);
    console.log(
      `  (a) open ports vs nmap -sT: wall ${fmt(aWall)}x (aim <= ${AIM_RATIO}x: ${verdict(aWall <= AIM_RATIO)}), CPU ${fmt(aCpu)}x (beside the same ${AIM_RATIO}x)`,
    );
    console.log(
      `  (b) versions vs nmap -sV: wall ${fmt(bWall)}x (aim <= 0.25x: ${verdict(bWall <= 0.25)}), services >= nmap: ${verdict(oursRight >= nmapRight)}`,
    );
    console.log(`  /22 peak RSS: ${fmt(wide.rssMb, 1)} MB (aim <= ${AIM_WIDE_RSS_MB} MB: ${verdict(wide.rssMb <= AIM_WIDE_RSS_MB)})`);
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

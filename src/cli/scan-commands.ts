import type { Command } from 'commander';
import { Option } from 'commander';
import { AgentError } from '../agent/errors.js';
import type { ScanResult } from '../agent/scan/engine.js';
import type { ScanEvent } from '../agent/scan/events.js';
import type { ScanSettings } from '../agent/scan/settings.js';
import { wholeNumber } from './arguments.js';
import { renderTable } from './table.js';
import { exitCodes } from '../shared/exit-codes.js';

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

interface ScanFlags {
  subnet?: string[];
  ports?: string;
  exclude?: string[];
  knownAlive?: string[];
  udp: boolean;
  versions: boolean;
  snmpCommunity?: string;
  concurrency?: number;
  perHost?: number;
  rate?: number;
  schedule?: string;
  ip?: string[];
  withRouter?: boolean;
  assumeAlive?: boolean;
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
];

/** A bar on a terminal; on a pipe or a log file nothing, so the output stays parseable. */
async function progressBar(enabled: boolean) {
  if (!enabled) return { update: (_event: ScanEvent) => undefined, stop: () => undefined };
  const [{ Presets, SingleBar }, { progressPercent }] = await Promise.all([import('cli-progress'), import('../agent/scan/events.js')]);
  const bar = new SingleBar(
    { format: 'scan [{bar}] {percentage}% {phase}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(100, 0, { phase: 'discovery' });
  return {
    update(event: ScanEvent) {
      if (event.type === 'progress') bar.update(progressPercent(event), { phase: `${event.phase} ${event.done}/${event.total}` });
    },
    stop: () => bar.stop(),
  };
}

async function printTable(result: ScanResult): Promise<void> {
  const { serviceCpe } = await import('../cve/services.js');
  const rows = result.hosts.flatMap((host) =>
    host.services.length === 0
      ? [[host.address, '-', '-', '-', '-', '-', host.foundBy, '']]
      : host.services.map((service) => [
          host.address,
          `${service.port}/${service.protocol}`,
          service.service,
          service.product ?? '-',
          [service.version, service.update].filter(Boolean).join('') || '-',
          serviceCpe(service) ?? '-',
          String(service.confidence),
          service.evidence.slice(0, 60),
        ]),
  );
  process.stdout.write(renderTable(['HOST', 'PORT', 'SERVICE', 'PRODUCT', 'VERSION', 'CPE', 'CONF', 'EVIDENCE'], rows));
  const services = result.hosts.reduce((sum, host) => sum + host.services.length, 0);
  process.stdout.write(
    `\n${result.hosts.length} of ${result.targets} addresses alive, ${services} services, ${result.ports} TCP ports each, ${(result.durationMs / 1000).toFixed(1)} s${result.aborted ? ' (interrupted: partial results)' : ''}\n`,
  );
}

/** `cve-agent scan`: the scanner engine alone, no router and no CVE matching. */
export function registerScanCommands(program: Command): void {
  program
    .command('scan')
    .description('find live hosts, open ports and service versions in subnets (no router, no CVEs)')
    .option('-s, --subnet <cidr>', 'IPv4 subnet /22../32 or address; repeatable or comma-separated (default: subnets from the config)', collect)
    .option('-p, --ports <list>', 'TCP ports, e.g. 22,80,8000-8100 (default: ~120 common and MikroTik ports)')
    .option('--exclude <cidr>', 'addresses or subnets to leave out; repeatable', collect)
    .option('--known-alive <ip>', 'addresses known to be up (skip their discovery); repeatable', collect)
    .option('--no-udp', 'do not ask DNS, SNMP and MNDP over UDP')
    .option('--no-versions', 'open ports only: no service and version detection')
    .option('--snmp-community <name>', 'SNMP v2c community', 'public')
    .addOption(new Option('--concurrency <n>', 'sockets open at once').argParser(wholeNumber(1, 4096)))
    .option('--per-host <n>', 'connects at once to one host', wholeNumber(1, 1024))
    .option('--rate <n>', 'connect attempts per second (0 = unlimited)', wholeNumber(0))
    .option('--assume-alive', "treat every address as up and skip discovery (nmap's -Pn)")
    .option('--schedule <id>', "run the whole pipeline (router, scan, CVEs, stored report) for this schedule's subnets of the site")
    .option('--ip <address>', "with --schedule: only this address (repeatable); it must lie in the schedule's subnets", collect)
    .option(
      '--with-router',
      'with --ip: judge the router and its MikroTik neighbors too, from the versions the router reports (a whole-schedule scan always does)',
    )
    .action(async (flags: ScanFlags, command: Command) => {
      const options = program.opts<GlobalOptions>();
      if (flags.schedule !== undefined) {
        const { runScheduledScan } = await import('./pipeline-commands.js');
        // A flag overrides the config's scan settings only when given (--no-udp's default is not a choice).
        const udp = command.getOptionValueSource('udp') === 'cli' ? flags.udp : undefined;
        await runScheduledScan(program, { schedule: flags.schedule, ip: flags.ip, withRouter: flags.withRouter, ports: flags.ports, udp });
        return;
      }
      if (flags.ip !== undefined)
        throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', '--ip needs --schedule (use --subnet a.b.c.d/32 to scan an address alone)');
      let subnets: readonly string[] = flags.subnet ?? [];
      if (subnets.length === 0) {
        // Loaded here: a scan given its subnets starts without the config modules (zod, yaml, luxon).
        const { loadConfig } = await import('../agent/config/load.js');
        const loaded = loadConfig(options.config, { dataDir: options.dataDir });
        subnets = loaded.config.subnets;
      }
      if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', 'no subnet to scan: give --subnet or list subnets in the config');
      const settings: Partial<ScanSettings> = {
        ...(flags.snmpCommunity ? { snmpCommunity: flags.snmpCommunity } : {}),
        ...(flags.concurrency === undefined ? {} : { globalConcurrency: flags.concurrency }),
        ...(flags.perHost === undefined ? {} : { perHostConcurrency: flags.perHost }),
        ...(flags.rate === undefined ? {} : { connectsPerSecond: flags.rate }),
      };
      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const bar = await progressBar(process.stderr.isTTY === true && !options.json);
      // Loaded here, not at the top: every other command (the daemon above all) starts without the scanner.
      const [{ createScanEngine }, { expandTargets }] = await Promise.all([import('../agent/scan/engine.js'), import('../agent/scan/targets.js')]);
      try {
        const result = await createScanEngine({ settings }).scan(
          {
            subnets,
            ports: flags.ports,
            excludes: flags.exclude,
            knownAlive: flags.assumeAlive ? expandTargets(subnets, flags.exclude) : flags.knownAlive,
            udp: flags.udp,
            detect: flags.versions,
          },
          { signal: controller.signal, onEvent: (event) => bar.update(event) },
        );
        bar.stop();
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else await printTable(result);
        if (result.aborted) process.exitCode = exitCodes.interrupted;
      } finally {
        bar.stop();
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}

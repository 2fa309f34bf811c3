import type { Command } from 'commander';
import pino from 'pino';
import type { AgentConfig } from '../agent/config/load.js';
import { loadConfig } from '../agent/config/load.js';
import { AgentError } from '../agent/errors.js';
import type { Scans, ScanReport } from '../agent/pipeline/index.js';
import { systemClock, utcIso } from '../shared/clock.js';
import { openStore } from '../agent/store/database.js';
import { MetaRepository } from '../agent/store/meta-repository.js';
import { SchedulesRepository } from '../agent/store/schedules-repository.js';
import { coverageLines } from '../shared/report/coverage.js';
import { parseScanRef } from '../shared/scan-label.js';
import { exitCodes } from '../shared/exit-codes.js';
import { createCliLogger } from './cli-logger.js';
import { renderTable } from './table.js';

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/** Opens agent.db (shared with a running daemon through WAL) and this site's scans on it; the scanner loads only if a scan runs. */
async function withPipeline<T>(
  config: AgentConfig,
  use: (context: Awaited<ReturnType<typeof openPipeline>>) => Promise<T>,
  overrides: ScanOverrides = {},
): Promise<T> {
  const context = await openPipeline(config, overrides);
  try {
    return await use(context);
  } finally {
    await context.close();
  }
}

interface ScanOverrides {
  ports?: string;
  udp?: boolean;
}

async function openPipeline(config: AgentConfig, overrides: ScanOverrides) {
  // Errors only: the scan's own warnings are in its report and events.
  const logger = createCliLogger('cve-agent', 'error');
  const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  const siteId = new MetaRepository(store.db).siteId(config.site_id);
  const { openScans, MarksRepository } = await import('../agent/pipeline/index.js');
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId, overrides });
  return {
    store,
    siteId,
    schedules: new SchedulesRepository(store.db),
    scans,
    marks: new MarksRepository(store.db),
    async close() {
      await scans.close();
      store.close();
    },
  };
}

export function printReport(report: ScanReport): void {
  const s = report.summary;
  const until = report.paused_until !== null ? ` until ${report.paused_until} (its scan window is closed)` : '';
  process.stdout.write(`scan ${report.label} (${report.id}) ${report.status}${until}${report.error ? `: ${report.error}` : ''}\n`);
  process.stdout.write(
    `hosts ${s.hosts_scanned}, with CVEs ${s.hosts_with_cves}; CVEs ${s.cve_count} (${s.unique_cves} unique, repeat ${s.cve_repeat_ratio}); highest ${s.highest_score ?? '-'}, average ${s.average_score ?? '-'}; warnings ${s.warnings}; open ports ${s.open_ports} (${s.unique_ports} unique)\n\n`,
  );
  // Fix-first: exposed and known-exploited first, then EPSS, then CVSS; each with why it is there.
  const byKey = new Map(report.hosts.flatMap((host) => host.findings.map((finding) => [`${host.ip} ${finding.rank}`, { host, finding }] as const)));
  const rows = report.fix_first.flatMap((entry) => {
    const found = byKey.get(`${entry.ip} ${entry.rank}`);
    if (found === undefined) return [];
    const { host, finding } = found;
    return [
      [
        String(entry.rank),
        host.ip,
        host.mac ?? '-',
        finding.port === null ? host.role : `${finding.port}/${finding.protocol}`,
        `${finding.product ?? '?'} ${finding.version_used}`,
        finding.cve_id,
        finding.score.toFixed(1),
        finding.warning ? 'WARN' : '',
        finding.status,
        finding.fixed_in ?? '-',
        finding.confidence_level,
        entry.why.join('; '),
      ],
    ];
  });
  if (rows.length > 0) process.stdout.write(renderTable(['#', 'IP', 'MAC', 'WHERE', 'PRODUCT', 'CVE', 'SCORE', '', 'STATUS', 'FIXED IN', 'CONF', 'WHY'], rows));
  // Patched by the distribution: listed so nobody wonders where they went, never counted.
  const patched = report.hosts.flatMap((host) =>
    host.patched.map((finding) => [
      host.ip,
      finding.port === null ? host.role : `${finding.port}/${finding.protocol}`,
      `${finding.product ?? '?'} ${finding.version_used}`,
      finding.cve_id,
      finding.line,
    ]),
  );
  if (patched.length > 0) {
    process.stdout.write(`\npatched by the distribution (not counted): ${patched.length}\n`);
    process.stdout.write(renderTable(['IP', 'WHERE', 'PRODUCT', 'CVE', 'VERDICT'], patched));
  }
  if (report.delta.previous_scan_id)
    process.stdout.write(
      `\nsince the previous scan: ${report.delta.new.length} new, ${report.delta.fixed.length} fixed, ${report.delta.still_open.length} still open\n`,
    );
  // What the report could not see: a clean report is only worth what it covered.
  process.stdout.write(
    `\ncoverage:\n${coverageLines(report.coverage)
      .map((line) => `  ${line}\n`)
      .join('')}`,
  );
  // The polite scanner: only when the router's load changed the connect rate (the rest is in --json and the events).
  const slowed = report.connect_rate;
  if (slowed && slowed.changes.length > 0) {
    const rate = (value: number) => (value <= 0 ? 'no limit' : `${value}/s`);
    process.stdout.write(`\nconnect rate (router CPU ceiling ${slowed.ceiling_percent} %, configured ${rate(slowed.configured)}):\n`);
    for (const change of slowed.changes)
      process.stdout.write(`  ${change.at}  CPU ${change.cpu_load} %  ${rate(change.rate_before)} -> ${rate(change.rate_after)}\n`);
  }
}

/** `cve-agent scan --schedule <id> [--ip ...]`: the whole pipeline by hand, Ctrl-C is a stop request. */
export async function runScheduledScan(
  program: Command,
  flags: { schedule: string; ip?: string[]; withRouter?: boolean; ports?: string; udp?: boolean },
): Promise<void> {
  const options = program.opts<GlobalOptions>();
  const { config } = loadConfig(options.config, { dataDir: options.dataDir });
  await withPipeline(
    config,
    async ({ schedules, scans, siteId }) => {
      const { ScheduleService } = await import('../agent/schedule/schedule-service.js');
      const { cliSpec, scopeProblem } = await import('../agent/pipeline/index.js');
      new ScheduleService({ schedules, clock: systemClock, logger: pino({ level: 'warn' }) }).syncFromConfig(config.schedules);
      const schedule = schedules.get(flags.schedule);
      if (!schedule) throw new AgentError('AGENT_ERR_SCHEDULE_NOT_FOUND', `no schedule has the id ${flags.schedule}`);
      const spec = cliSpec(schedule, siteId, flags.ip, { withRouter: flags.withRouter });
      // Out of scope: the CLI stores nothing and exits 77, before any packet.
      const problem = scopeProblem(spec);
      if (problem !== undefined) throw new AgentError('AGENT_ERR_SCAN_OUT_OF_SCOPE', problem);
      const { scan, done } = scans.start(spec);
      const interrupt = () => scans.stop(scan.id);
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const tty = process.stderr.isTTY === true && !options.json;
      const timer = tty
        ? setInterval(() => {
            const current = scans.get(scan.id);
            if (current)
              process.stderr.write(
                `\r${scan.label} [${'#'.repeat(Math.floor(current.progress / 5)).padEnd(20, '.')}] ${current.progress}% ${current.stage} ${current.hosts_done}/${current.hosts_total ?? '?'} hosts `,
              );
          }, 250)
        : undefined;
      try {
        const result = await done;
        if (tty) process.stderr.write('\n');
        const report = scans.report(result.id) as ScanReport;
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printReport(report);
        if (result.status === 'failed') process.exitCode = 1;
      } finally {
        clearInterval(timer);
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    },
    { ports: flags.ports, udp: flags.udp },
  );
}

/** `report <ref>`: a run UUID, a control-plane scan UUID (any case) or a label; the newest when a label names several. */
function scanOfRef(scans: Scans, input: string): string {
  const ref = parseScanRef(input);
  if (ref === undefined)
    throw new AgentError('AGENT_ERR_SCAN_NOT_FOUND', `${input} is no scan reference: give a run id, a control-plane scan id or a label such as ABC-DEF-GHJ`);
  const [newest, ...older] = scans.find(ref);
  if (newest === undefined) throw new AgentError('AGENT_ERR_SCAN_NOT_FOUND', `no scan has the ${ref.kind === 'uuid' ? 'id' : 'label'} ${input}`);
  if (older.length > 0)
    process.stderr.write(
      `${older.length + 1} scans have the label ${newest.label}; showing the newest, ${newest.id} (others: ${older.map((scan) => scan.id).join(', ')})\n`,
    );
  return newest.id;
}

export function registerPipelineCommands(program: Command): void {
  program
    .command('report [scan-id]')
    .description('the report of a scan: summary, hosts, findings and the change since the previous scan')
    .option('--latest', 'the newest scan')
    .option('--csv', 'one line per finding')
    .action(async (scanId: string | undefined, flags: { latest?: boolean; csv?: boolean }) => {
      const options = program.opts<GlobalOptions>();
      if (scanId === undefined && !flags.latest) program.error('error: give a scan id (or label) or --latest', { exitCode: exitCodes.usage });
      const { config } = loadConfig(options.config, { dataDir: options.dataDir });
      await withPipeline(config, async ({ scans }) => {
        const id = scanId !== undefined ? scanOfRef(scans, scanId) : scans.list({ limit: 1 })[0]?.id;
        if (id === undefined) throw new AgentError('AGENT_ERR_SCAN_NOT_FOUND', 'no scan yet');
        const report = scans.report(id);
        if (!report) throw new AgentError('AGENT_ERR_SCAN_NOT_FOUND', `no scan has the id ${id}`);
        if (flags.csv) {
          const { reportCsv } = await import('../agent/pipeline/index.js');
          process.stdout.write(reportCsv(report));
        } else if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printReport(report);
      });
    });

  program
    .command('mark <device> <cve-id>')
    .description('mark a CVE on a device (MAC, or IP for a host without one) as accepted or mitigated')
    .requiredOption('--status <status>', 'accepted, mitigated, or open to clear')
    .requiredOption('--justification <text>', 'why (10 to 1000 characters)')
    .option('--author <name>', 'who decides', process.env.USER ?? 'operator')
    .option('--expires <iso-time>', 'when the mark stops applying: an ISO 8601 time in the future, such as 2027-06-30T00:00:00Z')
    .action(async (device: string, cveId: string, flags: { status: string; justification: string; author: string; expires?: string }) => {
      const options = program.opts<GlobalOptions>();
      const { config } = loadConfig(options.config, { dataDir: options.dataDir });
      const { parseMarkInput } = await import('../agent/pipeline/index.js');
      const input = parseMarkInput({ device, cve_id: cveId, ...flags }, systemClock.now());
      await withPipeline(config, async ({ marks }) => {
        const mark = marks.add({ ...input, scan_id: null, cpe: null, origin: 'cli' }, utcIso(systemClock.now()));
        if (options.json) process.stdout.write(`${JSON.stringify(mark, null, 2)}\n`);
        else
          process.stdout.write(
            `${mark.cve_id} on ${mark.mac ?? mark.ip}: ${mark.status}${mark.mac === null ? ' (by IP: weaker, the address may change hands)' : ''}\n`,
          );
      });
    });
}

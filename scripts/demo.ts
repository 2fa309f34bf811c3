/**
 * `npm run demo`: the whole system on loopback in under a minute, leaving nothing running.
 * A control plane (temp SQLite), one site agent dialing it over WebSocket, the RouterOS API
 * simulator as the site's router and a few services that answer with vulnerable-looking
 * banners (test/helpers/demo-system.ts, shared with the browser tests). A schedule is created
 * through the REST API with a JWT minted here, invoked, its status polled every 2 s until it
 * ends, and the report printed.
 *
 * `npm run demo -- --keep`: the same, then everything keeps running: the console's URL is
 * printed for a person to click through the scan, until Ctrl-C or SIGTERM stops it all.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startDemoSystem, type DemoSystem } from '../test/helpers/demo-system.js';

const NET = '127.0.40';
const ORG = 'demo-org';
const keep = process.argv.slice(2).includes('--keep');
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);

interface Facts {
  distro?: { distro: string; status: string; fixed_version: string | null; ref: string };
  kev?: { date_added: string; ransomware: boolean } | null;
  epss?: { score: number } | null;
  exposure?: { state: string };
  why?: string[];
  priority_rank?: number;
}

interface ScanDetail {
  status: string;
  progress: number;
  events: { time: string; message: string }[];
}

interface Report {
  scan: { status: string; hosts_scanned: number; cve_count: number; highest_score: number | null; runtime: string };
  hosts: {
    ip_address: string;
    mac_address: string | null;
    hostname: string | null;
    manufacturer: string | null;
    open_ports: { port: number; service: string | null; product: string | null; version: string | null }[];
  }[];
  cves: ({
    cve_id: string;
    score: number;
    severity: string;
    host: { ip_address: string; mac_address: string | null };
    port: number | null;
    cpe: string;
  } & Facts)[];
  warnings: { cve_id: string; score: number; host: { ip_address: string; mac_address: string | null } }[];
  patched?: ({ cve_id: string; host: { ip_address: string } } & Facts)[];
  warning_threshold: number;
}

/** Creates a schedule, invokes it, follows it to the end and prints the report; the scan's final status. */
async function runScan(system: DemoSystem): Promise<string> {
  const { api, siteId } = system;
  const schedule = await api<{ id: string; next_scan_at: string }>('POST', '/scans/cve/scheduled', {
    description: 'Demo: every other Sunday 02:30, Sydney time',
    day_of_week: 0,
    time_of_day: '02:30',
    every_n_weeks: 2,
    timezone: 'Australia/Sydney',
    min_cvss: 4,
    warning_threshold: 7,
    ignore_offline_sites: false,
    sites: [{ id: siteId, subnet: `${NET}.0/24` }],
    notification_group: 'security-alerts',
  });
  say(`POST /scans/cve/scheduled -> schedule ${schedule.id}, next scan ${schedule.next_scan_at}`);
  const { scan_id: scanId } = await api<{ scan_id: string }>('POST', `/scans/cve/scheduled/${schedule.id}/invoke`);
  say(`POST /scans/cve/scheduled/${schedule.id}/invoke -> scan ${scanId}`);

  let detail: ScanDetail;
  let shown = 0;
  for (;;) {
    detail = await api<ScanDetail>('GET', `/scans/cve/${scanId}`);
    const fresh = detail.events.slice(shown);
    shown = detail.events.length;
    say(
      `GET /scans/cve/${scanId.slice(0, 8)}... -> ${detail.status} ${detail.progress}%${fresh.length > 0 ? `: ${fresh.map((event) => event.message).join(' | ')}` : ''}`,
    );
    if (['completed', 'partial', 'failed'].includes(detail.status)) break;
    if (performance.now() - started > 50_000) throw new Error('the scan did not finish within 50 s');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const status = await api<{ targets: string[]; scanned: string[]; failed: string[] }>('GET', `/scans/cve/${schedule.id}/status`);
  say(
    `GET /scans/cve/${schedule.id.slice(0, 8)}.../status -> targets ${status.targets.length}, scanned ${status.scanned.length}, failed ${status.failed.length}`,
  );
  printReport(await api<Report>('GET', `/scans/cve/${scanId}/report.json`));
  for (let i = 0; i < 40 && system.webhook.received.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  say(`webhook: ${system.webhook.received.join(', ') || 'none received'}`);
  return detail.status;
}

function printReport(report: Report): void {
  console.log(
    `\nReport: ${report.scan.status}, ${report.scan.hosts_scanned} hosts scanned, ${report.scan.cve_count} CVEs, highest score ${report.scan.highest_score ?? '-'}, runtime ${report.scan.runtime}`,
  );
  console.log('\nHosts');
  // On loopback every address of the /24 answers the sweep; the ones worth a line are those the router knows or that run something.
  const notable = report.hosts.filter((host) => host.mac_address !== null || host.hostname !== null || host.open_ports.length > 0);
  for (const host of notable) {
    const ports = host.open_ports.map((p) => `${p.port}/${[p.product, p.version].filter(Boolean).join(' ') || p.service || '?'}`).join(', ');
    console.log(
      `  ${host.ip_address.padEnd(13)} ${(host.mac_address ?? '(no MAC)').padEnd(17)}  ${(host.hostname ?? '').padEnd(11)} ${(host.manufacturer ?? '').slice(0, 24).padEnd(24)} ${ports}`.trimEnd(),
    );
  }
  console.log(`  (${report.hosts.length - notable.length} more addresses answered the sweep with no open port and no MAC)`);
  printVerdicts(report, notable);
  console.log('\nCVEs');
  const cves = [...report.cves].sort((a, b) => b.score - a.score || a.cve_id.localeCompare(b.cve_id));
  for (const cve of cves.slice(0, 25)) {
    console.log(
      `  ${cve.cve_id.padEnd(16)} ${cve.score.toFixed(1).padStart(4)} ${cve.severity.padEnd(8)} ${cve.host.ip_address.padEnd(13)} ${cve.host.mac_address ?? ''}  ${cve.cpe}`,
    );
  }
  if (cves.length > 25) console.log(`  ... and ${cves.length - 25} more`);
  console.log(`\nWarnings (score >= ${report.warning_threshold}): ${report.warnings.length}`);
  for (const warning of report.warnings.slice(0, 10))
    console.log(`  ${warning.cve_id} ${warning.score.toFixed(1)} on ${warning.host.mac_address ?? warning.host.ip_address}`);
  console.log('');
}

/** Per host: vulnerabilities, what the distribution patched, KEV, exposure and the first to fix; then the fix-first list with why. */
function printVerdicts(report: Report, hosts: Report['hosts']): void {
  const patched = report.patched ?? [];
  console.log('\nVerdicts by host (patched by the distribution: listed, not counted)');
  console.log(`  ${'HOST'.padEnd(13)} ${'CVES'.padStart(4)} ${'PATCHED'.padStart(7)} ${'KEV'.padStart(3)} ${'EXPOSED'.padStart(7)}  FIX FIRST`);
  for (const host of hosts) {
    const mine = report.cves.filter((cve) => cve.host.ip_address === host.ip_address);
    const fixed = patched.filter((cve) => cve.host.ip_address === host.ip_address);
    if (mine.length === 0 && fixed.length === 0) continue;
    const first = mine.reduce<(typeof mine)[number] | undefined>(
      (best, cve) => (best === undefined || (cve.priority_rank ?? 0) < (best.priority_rank ?? 0) ? cve : best),
      undefined,
    );
    console.log(
      `  ${host.ip_address.padEnd(13)} ${String(mine.length).padStart(4)} ${String(fixed.length).padStart(7)} ${String(mine.filter((cve) => cve.kev).length).padStart(3)} ${String(mine.filter((cve) => cve.exposure?.state === 'yes').length).padStart(7)}  ${first ? `#${first.priority_rank} ${first.cve_id}` : '-'}`,
    );
  }
  for (const cve of patched) {
    const name = cve.distro?.distro === 'ubuntu' ? 'Ubuntu' : 'Debian';
    const how = cve.distro?.status === 'not-affected' ? `not affected in ${name}` : `patched by ${name} in ${cve.distro?.fixed_version ?? '?'}`;
    console.log(`  ${cve.host.ip_address.padEnd(13)} ${cve.cve_id.padEnd(16)} ${how} (${cve.distro?.ref ?? '?'})`);
  }
  console.log('\nFix first (exposed and known-exploited, then EPSS, then CVSS; top 8)');
  for (const cve of report.cves.slice(0, 8)) {
    console.log(
      `  ${String(cve.priority_rank ?? '-').padStart(2)} ${cve.cve_id.padEnd(16)} ${cve.score.toFixed(1).padStart(4)} ${cve.host.ip_address.padEnd(13)} ${(cve.why ?? []).join('; ')}`,
    );
  }
}

/** Resolves on the first SIGINT or SIGTERM; a second one while stopping is ignored (the stop finishes). */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      say(`${signal}: stopping`);
      resolve(signal);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

let code = 1;
let system: DemoSystem | undefined;
try {
  // The console a person opens is dist/console: built (tsc and vite) when a source is newer than the last build.
  if (keep) execFileSync(process.execPath, [fileURLToPath(new URL('build-if-stale.mjs', import.meta.url))], { stdio: 'inherit' });
  system = await startDemoSystem({ net: NET, org: ORG, logger: pino({ level: process.env.DEMO_LOG ?? 'silent' }), say });
  const status = await runScan(system);
  code = status === 'completed' ? 0 : 1;
  if (keep) {
    const signal = stopSignal();
    say(`console: ${system.url}/`);
    say('still running (--keep): open the console, then Ctrl-C to stop everything');
    await signal;
  }
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  code = 1;
} finally {
  if (system && !(await system.stop())) code = 1;
  say(`everything stopped; exit ${code}`);
}
process.exitCode = code;

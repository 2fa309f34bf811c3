import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConfig, type AgentConfig } from '../../../src/agent/config/load.js';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { cliSpec, openScans } from '../../../src/agent/pipeline/index.js';
import { openStore } from '../../../src/agent/store/database.js';
import { MetaRepository } from '../../../src/agent/store/meta-repository.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { systemClock } from '../../../src/shared/clock.js';
import { captureLogger } from '../../helpers/logger.js';
import { fixFirstPorts, loadRealIntel, startFixFirstSite } from './fix-first-site.js';
import { tempDir } from '../../helpers/temp.js';
import { runCli } from '../../helpers/agent-process.js';

const scheduleId = '0f4a6b2c-9d1e-4c3b-8a7f-6e5d4c3b2a10';
const siteId = '7d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f';
const ports = fixFirstPorts;

async function startSite(withExposureMenus = true) {
  const { routerPort } = await startFixFirstSite(66, withExposureMenus);
  const raw = {
    site_id: siteId,
    subnets: ['127.0.66.0/24'],
    router: { host: '127.0.66.1', port: routerPort, user: 'edge-cve', password: 'router-secret' },
    schedules: [
      { id: scheduleId, description: 'fix-first', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, timezone: 'UTC', min_cvss: 0, warning_threshold: 7 },
    ],
  };
  return buildConfig(raw, undefined, { env: {}, dataDir: tempDir() }).config;
}

/** cve.db with the starter feed and tracker rows, plus the real KEV catalog and EPSS snapshot. */
function loadIntel(config: AgentConfig): void {
  const { logger } = captureLogger('warn');
  const cve = openCveDatabase({ stateDir: config.state_dir, logger, loadStarterFeed: true });
  try {
    loadRealIntel(cve.db);
  } finally {
    cve.close();
  }
}

async function scanSite(config: AgentConfig) {
  const { logger } = captureLogger('warn');
  const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock: systemClock, logger }).syncFromConfig(config.schedules);
  const site = new MetaRepository(store.db).siteId(config.site_id);
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId: site, overrides: { ports, udp: false } });
  onTestFinished(async () => {
    await scans.close();
    store.close();
  });
  const { scan, done } = scans.start(cliSpec(schedules.get(scheduleId)!, site, undefined));
  const result = await done;
  expect(result.status, result.error ?? '').toBe('completed');
  return { scanId: scan.id, report: scans.report(scan.id)!, outbox: new OutboxRepository(store.db) };
}

describe('fix-first findings: distro verdict, KEV, EPSS and router exposure, end to end', () => {
  it('stores every fact in agent.db, counts no patched CVE, and orders the report exposed-and-KEV first with a why per finding', async () => {
    const config = await startSite();
    loadIntel(config);
    const { scanId, report, outbox } = await scanSite(config);

    // agent.db: the verdict, KEV, EPSS and exposure are columns of the finding rows.
    const db = new Database(path.join(config.state_dir, 'agent.db'), { readonly: true });
    onTestFinished(() => void db.close());
    const row = (ip: string, cve: string) =>
      db
        .prepare(`SELECT f.* FROM findings f JOIN scan_hosts h ON h.id = f.host_id WHERE f.scan_id = ? AND h.ip = ? AND f.cve_id = ?`)
        .get(scanId, ip, cve) as Record<string, unknown>;
    expect(row('127.0.66.2', 'CVE-2024-6387')).toMatchObject({
      distro_status: 'fixed',
      distro_name: 'debian',
      distro_release: 'bookworm',
      distro_fixed_version: '1:9.2p1-2+deb12u3',
      distro_ref: 'DSA-5724-1',
      warning: 0,
    });
    expect(row('127.0.66.2', 'CVE-2023-38408')).toMatchObject({
      distro_status: 'vulnerable',
      kev_date_added: null,
      epss_score: 0.02999,
      epss_percentile: 0.89902,
      epss_date: '2024-01-13',
      exposure: 'yes',
    });
    expect(JSON.parse(row('127.0.66.2', 'CVE-2023-38408').exposure_reasons as string)).toEqual([
      { kind: 'dstnat', detail: 'forwarded from WAN tcp/2222 by dstnat rule *2' },
    ]);
    expect(row('127.0.66.1', 'CVE-2018-14847')).toMatchObject({
      kev_date_added: '2021-12-01',
      kev_due_date: '2022-06-01',
      kev_ransomware: 0,
      epss_score: 0.97473,
      exposure: 'yes',
      distro_status: null,
    });
    expect(row('127.0.66.3', 'CVE-2017-7529')).toMatchObject({ exposure: 'no', exposure_unknown: null });
    // No stable release is known to fix it: the advice is what removes the exposure read this run.
    expect(row('127.0.66.1', 'CVE-2018-14847').advice).toBe(
      'No RouterOS fix: no stable release is known yet (channel as the router reports); remove the exposure meanwhile.\n- /ip service set winbox address=127.0.66.0/24',
    );

    // The patched CVE is listed under the host, never among its vulnerabilities or in the counts.
    const sshHost = report.hosts.find((host) => host.ip === '127.0.66.2')!;
    expect(sshHost.findings.map((f) => f.cve_id)).not.toContain('CVE-2024-6387');
    expect(sshHost.patched).toContainEqual(expect.objectContaining({ cve_id: 'CVE-2024-6387', line: 'patched by Debian in 1:9.2p1-2+deb12u3 (DSA-5724-1)' }));
    const vulnerabilities = report.hosts.flatMap((host) => host.findings);
    expect(report.summary.cve_count).toBe(vulnerabilities.length);
    expect(report.patched_count).toBe(report.hosts.reduce((sum, host) => sum + host.patched.length, 0));
    expect(report.patched_count).toBeGreaterThan(0);
    expect(report.delta.new.map((entry) => entry.cve_id)).not.toContain('CVE-2024-6387');

    // Fix-first: the router's KEV CVEs reachable through winbox first (higher EPSS first), then
    // the exposed ones, the unexposed web host last; each with why it is there.
    expect(report.fix_first.map((entry) => entry.rank)).toEqual(vulnerabilities.map((_, index) => index + 1));
    expect(report.fix_first.slice(0, 2).map((entry) => [entry.ip, entry.cve_id])).toEqual([
      ['127.0.66.1', 'CVE-2018-14847'],
      ['127.0.66.1', 'CVE-2018-7445'],
    ]);
    expect(report.fix_first[0]!.why).toEqual([
      'KEV since 2021-12-01',
      'router service winbox (tcp/8291) open to WAN: no address restriction, accepted by input rule *4',
      'EPSS 0.97 (99th pct)',
      'CVSS 9.1',
    ]);
    const lastExposed = report.fix_first.findLastIndex((entry) => entry.ip !== '127.0.66.3');
    const firstWeb = report.fix_first.findIndex((entry) => entry.ip === '127.0.66.3');
    expect(firstWeb).toBeGreaterThan(lastExposed);
    const openssh = report.fix_first.find((entry) => entry.cve_id === 'CVE-2023-38408')!;
    expect(openssh.why).toEqual(['forwarded from WAN tcp/2222 by dstnat rule *2', 'EPSS 0.03 (89th pct)', 'CVSS 9.8']);
    // Each host lists its vulnerabilities in that order too.
    for (const host of report.hosts) expect(host.findings.map((f) => f.rank)).toEqual([...host.findings.map((f) => f.rank)].sort((a, b) => a! - b!));

    // The control plane hears the same facts in the finding frame.
    const frames = outbox
      .pending(0, 10_000)
      .filter((entry) => entry.type === 'finding')
      .map(
        (entry) => JSON.parse(entry.payload) as { ip: string; cve: { id: string }; kev?: unknown; exposure?: { state: string }; distro?: { status: string } },
      );
    expect(frames.find((frame) => frame.cve.id === 'CVE-2018-14847')).toMatchObject({
      kev: { date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false },
      exposure: { state: 'yes' },
    });
    expect(frames.find((frame) => frame.cve.id === 'CVE-2024-6387')?.distro?.status).toBe('fixed');

    // The CLI report prints the same order with the why, and the patched CVE apart.
    const configFile = path.join(tempDir(), 'config.yaml');
    writeFileSync(configFile, 'subnets: [127.0.66.0/24]\n', { mode: 0o600 });
    const cli = await runCli(['--config', configFile, '--data-dir', config.state_dir, 'report', scanId]);
    expect(cli.code, cli.stderr).toBe(0);
    const lines = cli.stdout.split('\n');
    const first = lines.findIndex((line) => line.includes('CVE-2018-14847'));
    expect(lines[first]).toMatch(/^1 +127\.0\.66\.1 .*KEV since 2021-12-01; router service winbox/);
    expect(cli.stdout).toMatch(/patched by the distribution \(not counted\): \d+\n/);
    expect(cli.stdout).toMatch(/127\.0\.66\.2 +2222\/tcp .*CVE-2024-6387 +patched by Debian in 1:9\.2p1-2\+deb12u3 \(DSA-5724-1\)/);
    // The CSV too: fix-first order, with the facts that put each line there.
    const csv = await runCli(['--config', configFile, '--data-dir', config.state_dir, 'report', scanId, '--csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, firstRow] = csv.stdout.split('\n');
    expect(header).toBe('scan,ip,mac,hostname,port,cpe,version,cve,score,severity,warning,status,fixed_in,confidence,rank,kev,epss,exposed,why');
    expect(firstRow).toMatch(
      /^[A-Z-]+,127\.0\.66\.1,,fix-gw,,cpe:2\.3:o:mikrotik:routeros:[^,]*,6\.40\.5,CVE-2018-14847,9\.1,CRITICAL,true,open,,high,1,2021-12-01,0\.97473,yes,"?KEV since 2021-12-01; router service winbox/,
    );
    expect(csv.stdout).not.toContain('CVE-2024-6387');
  });

  it('says exposure is unknown, and why, when the router lacks the exposure menus; RouterOS advice names the newest release of its channel', async () => {
    const config = await startSite(false);
    const { logger } = captureLogger('warn');
    const cve = openCveDatabase({ stateDir: config.state_dir, logger, loadStarterFeed: true });
    cve.db.prepare("INSERT INTO routeros_releases (channel, version, released, checked_at) VALUES ('stable', '7.20.6', NULL, '2026-12-01T00:00:00Z')").run();
    cve.close();
    const { report } = await scanSite(config);
    const winbox = report.hosts.find((host) => host.ip === '127.0.66.1')?.findings.find((f) => f.cve_id === 'CVE-2018-14847');
    expect(winbox?.advice?.split('\n')).toEqual([
      'Install RouterOS 7.20.6, the newest stable release (channel as the router reports).',
      '- /system package update set channel=stable',
      '- /system package update check-for-updates',
      '- /system package update install',
      '- /system routerboard upgrade',
      '- /system reboot',
    ]);
    const all = report.hosts.flatMap((host) => host.findings);
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all.map((f) => f.exposure.state))).toEqual(new Set(['unknown']));
    expect(all[0]!.exposure.unknown_reason).toBe('no NAT/filter/service/UPnP/interface-list menus from the router');
    expect(all[0]!.why).toContain('exposure unknown: no NAT/filter/service/UPnP/interface-list menus from the router');
  });
});

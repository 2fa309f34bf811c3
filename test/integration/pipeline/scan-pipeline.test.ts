import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConfig, type AgentConfig } from '../../../src/agent/config/load.js';
import { cliSpec, MarksRepository, openScans } from '../../../src/agent/pipeline/index.js';
import { ScanRepository } from '../../../src/agent/pipeline/scan-repository.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { systemClock, utcIso } from '../../../src/shared/clock.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { openStore } from '../../../src/agent/store/database.js';
import { MetaRepository } from '../../../src/agent/store/meta-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { startApiSimulator } from '../../simulators/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { tempDir } from '../../helpers/temp.js';
import { macs, siteId, siteRouter, subnet } from './site-router.js';
import { agentCli } from '../../helpers/cli.js';

const scheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';
const ports = '2222,8080,2121,2323';

async function startSite(options: { tarpit?: boolean } = {}) {
  const router = await startApiSimulator({ data: siteRouter() });
  onTestFinished(() => router.stop());
  const services = {
    ssh: await startFakeService({ host: '127.0.30.2', port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' }),
    web: await startFakeService({ host: '127.0.30.3', port: 8080, httpServer: 'nginx/1.13.2' }),
    ftp: await startFakeService({ host: '127.0.30.4', port: 2121, greeting: '220 ProFTPD 1.3.5 Server (ProFTPD Default Installation) [127.0.30.4]\r\n' }),
    ...(options.tarpit ? { tarpit: await startFakeService({ host: '127.0.30.5', port: 2323, tarpit: true }) } : {}),
  };
  const raw = {
    site_id: siteId,
    subnets: [subnet],
    router: { host: '127.0.0.1', port: router.port, user: 'edge-cve', password: 'router-secret' },
    schedules: [
      { id: scheduleId, description: 'e2e', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, timezone: 'UTC', min_cvss: 5.5, warning_threshold: 7.5 },
    ],
  };
  return { router, services, raw };
}

function openPipeline(config: AgentConfig) {
  const { logger } = captureLogger('warn');
  const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock: systemClock, logger }).syncFromConfig(config.schedules);
  const siteIdKept = new MetaRepository(store.db).siteId(config.site_id);
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId: siteIdKept, overrides: { ports, udp: false } });
  onTestFinished(async () => {
    await scans.close();
    store.close();
  });
  const spec = (ips?: string[]) => cliSpec(schedules.get(scheduleId)!, siteIdKept, ips);
  return { store, schedules, scans, spec, repo: new ScanRepository(store.db), marks: new MarksRepository(store.db), outbox: new OutboxRepository(store.db) };
}

describe('the scan pipeline, end to end over loopback', () => {
  it('reports the right CVEs on the right hosts, keyed by the MACs of the router tables, with the router and its neighbor', async () => {
    const { raw } = await startSite();
    const { config } = buildConfig(raw, undefined, { env: {}, dataDir: tempDir() });
    const { scans, spec, outbox: queued } = openPipeline(config);
    const { scan, done } = scans.start(spec());
    const result = await done;
    expect(result.status, result.error ?? '').toBe('completed');
    const report = scans.report(scan.id)!;
    const host = (ip: string) => report.hosts.find((h) => h.ip === ip);
    const cves = (ip: string) =>
      host(ip)
        ?.findings.map((f) => f.cve_id)
        .sort();

    expect(host('127.0.30.2')).toMatchObject({ mac: macs.ssh, hostname: 'build-box' });
    expect(cves('127.0.30.2')).toEqual(expect.arrayContaining(['CVE-2023-38408', 'CVE-2020-15778', 'CVE-2021-41617']));
    expect(host('127.0.30.3')).toMatchObject({ mac: macs.web, hostname: 'camera-web' });
    expect(cves('127.0.30.3')).toEqual(expect.arrayContaining(['CVE-2017-7529', 'CVE-2021-23017']));
    expect(host('127.0.30.4')?.mac).toBe(macs.ftp);
    expect(cves('127.0.30.4')).toEqual(expect.arrayContaining(['CVE-2015-3306', 'CVE-2019-12815']));
    // The router (RouterOS 6.40.5) and its 6.45.1 neighbor, judged from the versions the router reported.
    expect(host('127.0.30.1')).toMatchObject({ role: 'router', hostname: 'site-gw' });
    expect(cves('127.0.30.1')).toEqual(expect.arrayContaining(['CVE-2018-14847', 'CVE-2018-7445', 'CVE-2018-1156']));
    expect(host('127.0.30.9')).toMatchObject({ role: 'neighbor', mac: macs.neighbor });
    expect(cves('127.0.30.9')).toEqual(expect.arrayContaining(['CVE-2019-3976']));
    expect(cves('127.0.30.9')).not.toContain('CVE-2018-14847');

    // min_cvss 5.5 keeps CVE-2018-15473 (5.3) and CVE-2021-36368 (3.7) out; 7.5 and above are warnings.
    const all = report.hosts.flatMap((h) => h.findings);
    expect(all.every((f) => f.score >= 5.5)).toBe(true);
    expect(cves('127.0.30.2')).not.toContain('CVE-2018-15473');
    expect(
      all
        .filter((f) => f.warning)
        .map((f) => f.score)
        .every((score) => score >= 7.5),
    ).toBe(true);
    expect(all.filter((f) => !f.warning).every((f) => f.score < 7.5)).toBe(true);
    expect(report.summary.warnings).toBe(all.filter((f) => f.warning).length);
    expect(report.summary.hosts_with_cves).toBe(5);
    expect(report.events.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Router site-gw RouterOS 6\.40\.5 \(stable\) over api/), 'Scan completed']),
    );

    // Every stored finding was queued for the control plane exactly once.
    const outbox = queued.pending(0, 10_000);
    expect(outbox.filter((row) => row.type === 'finding')).toHaveLength(all.length);
    expect(outbox.at(-1)?.type).toBe('scan.finished');

    // The router as this run read it goes to the control plane once, after the run is reported scanning.
    const inventories = outbox.filter((row) => row.type === 'inventory');
    expect(inventories).toHaveLength(1);
    const scanning = outbox.find((row) => row.type === 'scan.status' && (JSON.parse(row.payload) as { status: string }).status === 'scanning');
    expect(inventories[0]!.seq).toBeGreaterThan(scanning!.seq);
    const inventory = JSON.parse(inventories[0]!.payload) as {
      run_id: string;
      router: Record<string, unknown>;
      hosts: { mac: string; ip: string }[];
      neighbors: { mac: string }[];
    };
    expect(inventory).toMatchObject({ run_id: scan.id, router: { identity: 'site-gw', routeros_version: '6.40.5', board: 'RB951Ui-2HnD', serial: null } });
    expect(inventory.hosts).toContainEqual(expect.objectContaining({ mac: macs.ssh, ip: '127.0.30.2' }));
    expect(inventory.neighbors.map((neighbor) => neighbor.mac)).toContain(macs.neighbor);
  });

  it('applies an accepted mark to the device by MAC until the detected version changes', async () => {
    const { raw } = await startSite();
    const { config } = buildConfig(raw, undefined, { env: {}, dataDir: tempDir() });
    const { scans, spec, marks } = openPipeline(config);
    const { scan: first, done } = scans.start(spec());
    await done;
    marks.add(
      {
        mac: macs.web,
        ip: null,
        cve_id: 'CVE-2017-7529',
        status: 'accepted',
        justification: 'behind a reverse proxy that strips ranges',
        author: 'ops',
        expires_at: null,
        cpe: null,
        scan_id: first.id,
        origin: 'cli',
      },
      utcIso(new Date()),
    );
    const report = scans.report(first.id)!;
    const finding = report.hosts.find((h) => h.mac === macs.web)?.findings.find((f) => f.cve_id === 'CVE-2017-7529');
    expect(finding?.status).toBe('accepted');
    expect(finding?.mark).toMatchObject({ author: 'ops', weak: false });
    expect(report.summary.accepted).toBe(1);
    // Bug fix: an accepted finding no longer counts as a warning (it did on the agent, not in the API's report.json).
    expect(report.summary.warnings).toBe(report.hosts.flatMap((h) => h.findings).filter((f) => f.warning && f.status === 'open').length);
    // Bug fix: the whole CPE was compared, so an NVD vendor alias (or a learnt RouterOS channel) reopened it; the product key is not changed by either.
    const alias = finding!.cpe
      .split(':')
      .map((field, i) => (i === 3 ? (field === 'nginx' ? 'f5' : 'nginx') : field))
      .join(':');
    expect(marks.applicable({ mac: macs.web, ip: '127.0.30.3', cve_id: 'CVE-2017-7529', cpe: alias }, utcIso(new Date()))?.status).toBe('accepted');
    // Bug fix: a newer mark that has expired no longer hides the older one still in force (the newest unexpired counts, as on the control plane).
    marks.add(
      {
        mac: macs.web,
        ip: null,
        cve_id: 'CVE-2017-7529',
        status: 'mitigated',
        justification: 'patched for a while, then rolled back',
        author: 'ops',
        expires_at: '2020-01-01T00:00:00.000Z',
        cpe: null,
        scan_id: null,
        origin: 'cli',
      },
      utcIso(new Date()),
    );
    expect(marks.applicable({ mac: macs.web, ip: '127.0.30.3', cve_id: 'CVE-2017-7529', cpe: finding!.cpe }, utcIso(new Date()))?.status).toBe('accepted');
    // The same CVE on another device stays open; a mark for another version no longer applies.
    expect(
      marks.applicable({ mac: macs.web, ip: '127.0.30.3', cve_id: 'CVE-2017-7529', cpe: 'cpe:2.3:a:f5:nginx:1.13.1:*:*:*:*:*:*:*' }, utcIso(new Date())),
    ).toBeUndefined();
    // An expired mark no longer applies.
    marks.add(
      {
        mac: macs.web,
        ip: null,
        cve_id: 'CVE-2021-23017',
        status: 'mitigated',
        justification: 'resolver disabled in config',
        author: 'ops',
        expires_at: '2020-01-01T00:00:00.000Z',
        cpe: null,
        scan_id: null,
        origin: 'cli',
      },
      utcIso(new Date()),
    );
    const again = scans.report(first.id)!;
    expect(again.hosts.find((h) => h.mac === macs.web)?.findings.find((f) => f.cve_id === 'CVE-2021-23017')?.status).toBe('open');

    // A second scan of the same schedule: nothing changed, so the delta says still open.
    const second = await scans.start(spec()).done;
    const delta = scans.report(second.id)!.delta;
    expect(delta.previous_scan_id).toBe(first.id);
    expect(delta.new).toEqual([]);
    expect(delta.fixed).toEqual([]);
    expect(delta.still_open.length).toBeGreaterThan(10);
  });

  it('refuses a single-IP scan outside the schedule subnets before sending a packet', async () => {
    const { raw, router } = await startSite();
    const { config } = buildConfig(raw, undefined, { env: {}, dataDir: tempDir() });
    const { scans, spec } = openPipeline(config);
    expect(() => scans.start(spec(['127.0.31.7']))).toThrow(/127\.0\.31\.7 is outside the schedule's subnets/);
    expect(router.logins).toEqual([]);
    expect(scans.list()).toEqual([]);
    const { scan: single, done } = scans.start(spec(['127.0.30.2']));
    expect(single.kind).toBe('single_ip');
    const result = await done;
    const report = scans.report(result.id)!;
    expect(report.hosts.map((h) => h.ip)).toEqual(['127.0.30.2']);
    expect(report.hosts[0]?.mac).toBe(macs.ssh);
  });

  it('ends partial within 2 s of a stop request, keeping what was found', async () => {
    const { raw } = await startSite({ tarpit: true });
    const { config } = buildConfig(raw, undefined, { env: {}, dataDir: tempDir() });
    const { scans, spec, repo } = openPipeline(config);
    const { scan, done: running } = scans.start(spec());
    const done = () => repo.hostsByState(scan.id, 'done').map((host) => host.ip);
    while (!['127.0.30.2', '127.0.30.3', '127.0.30.4'].every((ip) => done().includes(ip))) await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedAt = performance.now();
    expect(scans.stop(scan.id)).toBe(true);
    const result = await running;
    expect(performance.now() - stoppedAt).toBeLessThan(2000);
    expect(result.status).toBe('partial');
    expect(repo.events(scan.id).map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Scan stopped on request; \d+ hosts done were kept$/)]),
    );
    expect(scans.report(scan.id)!.summary.cve_count).toBeGreaterThan(0);
  });

  it('resumes a scan after kill -9 without probing done hosts again or recording a finding twice', async () => {
    const { raw, services } = await startSite({ tarpit: true });
    const dir = tempDir();
    const configFile = path.join(dir, 'config.yaml');
    writeFileSync(configFile, JSON.stringify({ ...raw, state_dir: path.join(dir, 'state') }));
    const cli = agentCli;
    const child = spawn(process.execPath, [cli, '--config', configFile, 'scan', '--schedule', scheduleId, '--ports', ports, '--no-udp'], {
      stdio: 'ignore',
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const dbFile = path.join(dir, 'state', 'agent.db');
    // Every loopback address answers (refused counts as alive), so wait for the three service hosts themselves.
    const doneHosts = () => {
      try {
        const db = new Database(dbFile, { readonly: true, fileMustExist: true });
        try {
          return db
            .prepare("SELECT count(*) FROM scan_hosts WHERE state = 'done' AND ip IN ('127.0.30.2', '127.0.30.3', '127.0.30.4')")
            .pluck()
            .get() as number;
        } finally {
          db.close();
        }
      } catch {
        return 0;
      }
    };
    while (doneHosts() < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const probed = { ssh: services.ssh.connections(), web: services.web.connections(), ftp: services.ftp.connections() };
    expect(Math.min(probed.ssh, probed.web, probed.ftp)).toBeGreaterThan(0);

    const { config } = buildConfig({ ...raw, state_dir: path.join(dir, 'state') }, configFile, { env: {} });
    const { scans, repo, store } = openPipeline(config);
    const [scan] = repo.unfinished();
    expect(scan?.status).toBe('scanning');
    const resumed = scans.resumeUnfinished();
    expect(resumed.map((s) => s.id)).toEqual([scan?.id]);
    await scans.idle();
    const final = scans.get(scan!.id)!;
    expect(final.status).toBe('completed');
    expect({ ssh: services.ssh.connections(), web: services.web.connections(), ftp: services.ftp.connections() }).toEqual(probed);
    const dupes = store.db.prepare('SELECT count(*) - count(DISTINCT host_id || cve_id || cpe || ifnull(port, -1)) FROM findings').pluck().get();
    expect(dupes).toBe(0);
    const sentTwice = store.db
      .prepare(
        "SELECT count(*) FROM (SELECT json_extract(payload, '$.ip') ip, json_extract(payload, '$.cve.id') cve, json_extract(payload, '$.port') port, count(*) n FROM outbox WHERE type = 'finding' GROUP BY 1, 2, 3 HAVING n > 1)",
      )
      .pluck()
      .get();
    expect(sentTwice).toBe(0);
    expect(repo.events(scan!.id).map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Resuming scan after a restart \(\d+ hosts already done\)/)]),
    );
  });
});

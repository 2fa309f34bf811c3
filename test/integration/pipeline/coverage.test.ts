import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConfig, type AgentConfig } from '../../../src/agent/config/load.js';
import { cliSpec, openScans, type EngineOverrides } from '../../../src/agent/pipeline/index.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { openStore } from '../../../src/agent/store/database.js';
import { MetaRepository } from '../../../src/agent/store/meta-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { expandTargets } from '../../../src/agent/scan/targets.js';
import { scanFinishedSchema } from '../../../src/protocol/index.js';
import { systemClock } from '../../../src/shared/clock.js';
import type { RouterData } from '../../simulators/index.js';
import { startApiSimulator } from '../../simulators/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { runCli } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';
import { siteId, siteRouter as siteRouterOn30 } from './site-router.js';

// Its own addresses, so it runs beside the other pipeline tests (their services listen on 127.0.30.x).
const subnet = '127.0.43.0/24';
const siteRouter = (): RouterData => JSON.parse(JSON.stringify(siteRouterOn30()).replaceAll('127.0.30.', '127.0.43.')) as RouterData;

const scheduleId = '7c1e8d3b-6f2a-4e4c-8d9e-8b7f6e5d4c3a';
const ports = '2222,8080,2121,2323';

async function startSite(data: RouterData, options: { schedule?: Record<string, unknown>; feed?: Record<string, unknown> } = {}) {
  const router = await startApiSimulator({ data });
  onTestFinished(() => router.stop());
  await startFakeService({ host: '127.0.43.2', port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
  await startFakeService({ host: '127.0.43.3', port: 8080, httpServer: 'nginx/1.13.2' });
  const raw = {
    site_id: siteId,
    subnets: [subnet],
    router: { host: '127.0.0.1', port: router.port, user: 'edge-cve', password: 'router-secret' },
    ...(options.feed ? { feed: options.feed } : {}),
    schedules: [
      {
        id: scheduleId,
        description: 'coverage',
        day_of_week: 0,
        time_of_day: '02:30',
        every_n_weeks: 2,
        timezone: 'UTC',
        min_cvss: 5.5,
        warning_threshold: 7.5,
        ...options.schedule,
      },
    ],
  };
  return buildConfig(raw, undefined, { env: {}, dataDir: tempDir() }).config;
}

function openPipeline(config: AgentConfig, overrides: EngineOverrides = {}) {
  const { logger } = captureLogger('warn');
  const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  const schedules = new SchedulesRepository(store.db);
  new ScheduleService({ schedules, clock: systemClock, logger }).syncFromConfig(config.schedules);
  const site = new MetaRepository(store.db).siteId(config.site_id);
  const scans = openScans({ config: () => config, db: store.db, logger, clock: systemClock, siteId: site, overrides: { ports, udp: false, ...overrides } });
  onTestFinished(async () => {
    await scans.close();
    store.close();
  });
  const run = async (ips?: string[], withRouter?: boolean) => {
    const { scan, done } = scans.start(cliSpec(schedules.get(scheduleId)!, site, ips, { withRouter }));
    const result = await done;
    return { result, report: scans.report(scan.id)! };
  };
  return { run, outbox: new OutboxRepository(store.db) };
}

/** The site router, with its own /ip address somewhere else than the scanned subnet. */
function routerElsewhere(address: string, network: string): RouterData {
  const data = siteRouter();
  data.menus['/ip/address'] = [
    {
      '.id': '*1',
      address,
      network,
      interface: 'vlan-mgmt',
      'actual-interface': 'vlan-mgmt',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    },
  ];
  return data;
}

const cvesOf = (report: { hosts: { ip: string; findings: { cve_id: string }[] }[] }, ip: string) =>
  report.hosts.find((host) => host.ip === ip)?.findings.map((finding) => finding.cve_id) ?? [];

// Before: the router's CVEs were kept only when one of its own /ip address entries lay inside the scanned subnets.
describe('the router and its MikroTik neighbors are always judged', () => {
  it('judges a router whose own address lies outside the subnets (a management VLAN), keyed by the address the agent reaches it at', async () => {
    const config = await startSite(routerElsewhere('127.0.42.1/28', '127.0.42.0'));
    const { run } = openPipeline(config);
    const { result, report } = await run();
    expect(result.status, result.error ?? '').toBe('completed');
    expect(report.hosts.find((host) => host.ip === '127.0.0.1')).toMatchObject({ role: 'router', hostname: 'site-gw' });
    expect(cvesOf(report, '127.0.0.1')).toEqual(expect.arrayContaining(['CVE-2018-14847', 'CVE-2018-7445']));
    expect(cvesOf(report, '127.0.43.9')).toContain('CVE-2019-3976');
    expect(report.coverage.router).toEqual({ state: 'read', judged: true, reason: null });
    expect(report.coverage.devices).toEqual([
      expect.objectContaining({ role: 'router', ip: '127.0.0.1', identity: 'site-gw', judged: true }),
      expect.objectContaining({ role: 'neighbor', ip: '127.0.43.9', identity: 'ap-roof', judged: true }),
    ]);
  });

  it('a single-IP scan judges them only when asked', async () => {
    const config = await startSite(siteRouter());
    const { run } = openPipeline(config);
    const plain = await run(['127.0.43.2']);
    expect(plain.result.status).toBe('completed');
    expect(plain.report.hosts.map((host) => host.ip)).toEqual(['127.0.43.2']);
    expect(plain.report.coverage.router).toMatchObject({ state: 'read', judged: false, reason: expect.stringContaining('only when asked') });
    expect(plain.report.coverage.warnings.filter((warning) => /router|neighbor/.test(warning))).toEqual([]);

    const asked = await run(['127.0.43.2'], true);
    expect(asked.result.status).toBe('completed');
    expect(asked.report.hosts.map((host) => [host.ip, host.role])).toEqual([
      ['127.0.43.1', 'router'],
      ['127.0.43.2', 'host'],
      ['127.0.43.9', 'neighbor'],
    ]);
    expect(cvesOf(asked.report, '127.0.43.1')).toContain('CVE-2018-14847');
    expect(asked.report.coverage.router.judged).toBe(true);
  });

  it('says in a warning which neighbor could not be judged, and why', async () => {
    const data = siteRouter();
    data.menus['/ip/neighbor'] = [
      ...(data.menus['/ip/neighbor'] ?? []),
      { '.id': '*2', interface: 'ether3', address: '127.0.43.10', 'mac-address': '48:A9:8A:0A:0B:0C', identity: 'ap-old', platform: 'MikroTik' },
    ];
    const config = await startSite(data);
    const { run } = openPipeline(config);
    const { report } = await run();
    expect(report.coverage.devices).toContainEqual(
      expect.objectContaining({ role: 'neighbor', identity: 'ap-old', judged: false, reason: 'the router reported no RouterOS version for it' }),
    );
    expect(report.coverage.warnings).toContain('neighbor ap-old not judged: the router reported no RouterOS version for it');
  });

  it('says in a warning that the router was not judged when it could not be read', async () => {
    const config = await startSite(siteRouter(), { schedule: { ignore_offline_sites: true } });
    // The router's read fails as a refused connection does (without the reader's retries, which take seconds).
    const { run } = openPipeline(config, {
      readInventory: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:8728');
      },
    });
    const { result, report } = await run();
    expect(result.status, result.error ?? '').toBe('completed');
    expect(report.coverage.router).toMatchObject({ state: 'unreachable', judged: false });
    expect(report.coverage.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^the router and its neighbors were not judged: the router could not be read/)]),
    );
  });
});

// Before: a report said what it found and nothing of what it could not see.
describe('a report says what it could not see', () => {
  it('counts the addresses that answered and lists silent hosts, services without a version, cut probes and the CVE data, stored and sent', async () => {
    const data = siteRouter();
    data.menus['/ip/arp'] = [
      ...(data.menus['/ip/arp'] ?? []),
      { '.id': '*9', address: '127.0.43.8', 'mac-address': '00:11:22:33:44:88', interface: 'bridge-lan', dynamic: 'true', complete: 'true' },
    ];
    const config = await startSite(data, { feed: { stale_after: '1s' } });
    await startFakeService({ host: '127.0.43.5', port: 2323, tarpit: true });
    await startFakeService({ host: '127.0.43.6', port: 2323, greeting: 'hello from a box nobody knows\r\n' });
    const { run, outbox } = openPipeline(config, { scanSettings: { portTimeoutMs: 1500, probeStepTimeoutMs: 1000 } });
    const { result, report } = await run();
    expect(result.status, result.error ?? '').toBe('completed');
    const { coverage } = report;
    expect(coverage.addresses.in_scope).toBe(expandTargets([subnet]).length);
    expect(coverage.addresses.answered).toBeGreaterThanOrEqual(4);
    expect(coverage.addresses.answered).toBeLessThanOrEqual(coverage.addresses.in_scope);
    expect(coverage.router_known_silent.hosts).toContainEqual({ ip: '127.0.43.8', mac: '00:11:22:33:44:88', hostname: null });
    expect(coverage.router_known_silent.hosts.map((host) => host.ip)).not.toContain('127.0.43.2');
    expect(coverage.services_unversioned.services).toContainEqual(expect.objectContaining({ ip: '127.0.43.6', port: 2323, protocol: 'tcp', version: null }));
    expect(coverage.services_unversioned.services.map((service) => service.ip)).not.toContain('127.0.43.2');
    expect(coverage.probes_cut.probes).toContainEqual(expect.objectContaining({ ip: '127.0.43.5', port: 2323, protocol: 'tcp' }));
    // On loopback every address answers a connect (refused): those without a scanned port open are listed, up to the cap.
    expect(coverage.alive_without_open_port.count).toBeGreaterThan(0);
    expect(coverage.alive_without_open_port.hosts).not.toContain('127.0.43.2');
    expect(coverage.cve_data).toMatchObject({ stale: true });
    expect(coverage.cve_data!.cves).toBeGreaterThan(0);
    expect(coverage.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^the CVE data is \d+ day\(s\) old/)]));

    // The same statement went to the control plane with scan.finished, valid for its schema.
    const finished = outbox.pending(0, 100_000).filter((row) => row.type === 'scan.finished');
    expect(finished).toHaveLength(1);
    const sent = scanFinishedSchema.parse({ ...(JSON.parse(finished[0]!.payload) as object), seq: finished[0]!.seq });
    expect(sent.coverage).toEqual(coverage);

    // It is stored: a later process reads the same statement; the CLI prints it short, and whole with --json.
    const cliConfig = path.join(tempDir(), 'config.yaml');
    writeFileSync(cliConfig, `subnets: [${subnet}]\n`, { mode: 0o600 });
    const json = await runCli(['--config', cliConfig, '--data-dir', config.state_dir, '--json', 'report', report.id]);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { coverage: unknown }).coverage).toEqual(coverage);
    const text = await runCli(['--config', cliConfig, '--data-dir', config.state_dir, 'report', report.id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('coverage:');
    expect(text.stdout).toContain(`addresses: ${coverage.addresses.answered} of ${coverage.addresses.in_scope} in scope answered`);
    expect(text.stdout).toMatch(/services without a version \(no CVE judged\): \d+ \(.*127\.0\.43\.6:2323\/tcp/);
    expect(text.stdout).toContain('warning: the CVE data is');
  });
});

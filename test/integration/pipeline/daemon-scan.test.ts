import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent } from '../../../src/agent/agent.js';
import { buildConfig } from '../../../src/agent/config/load.js';
import { createSdNotifier } from '../../../src/shared/sd-notify.js';
import { startApiSimulator } from '../../simulators/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { tempDir } from '../../helpers/temp.js';
import { macs, siteId, siteRouter, subnet } from './site-router.js';

const scheduleId = '0c8f0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00';

describe('the daemon runs a schedule on time', () => {
  it('fires the slot at its local time and stores a completed scan with CVEs keyed by MAC', async () => {
    const router = await startApiSimulator({ data: siteRouter() });
    onTestFinished(() => router.stop());
    await startFakeService({ host: '127.0.30.2', port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
    const { config } = buildConfig(
      {
        site_id: siteId,
        subnets: [subnet],
        router: { host: '127.0.0.1', port: router.port, user: 'edge-cve', password: 'router-secret' },
        scan: { ports: '2222', udp: false },
        schedules: [
          {
            id: scheduleId,
            description: 'Sunday 02:30 Sydney',
            day_of_week: 0,
            time_of_day: '02:30',
            every_n_weeks: 2,
            timezone: 'Australia/Sydney',
            min_cvss: 4,
            warning_threshold: 7,
          },
        ],
      },
      undefined,
      { env: {}, dataDir: tempDir() },
    );
    // Created on Wednesday 2027-01-06 (Sydney); the first slot is Sunday 2027-01-17 02:30 AEDT = 2027-01-16T15:30Z.
    let now = new Date('2027-01-05T23:00:00.000Z');
    const clock = { now: () => new Date(now.getTime()) };
    const { logger, messages } = captureLogger('info');
    const agent = createAgent({ config, logger, clock, notifier: createSdNotifier({ env: {}, logger }) });
    onTestFinished(async () => {
      await agent.stop();
    });
    await agent.start();
    const scheduler = agent.scheduler!;
    expect(scheduler.tick().fired).toEqual([]);
    now = new Date('2027-01-16T15:29:59.000Z');
    expect(scheduler.tick().fired).toEqual([]);
    now = new Date('2027-01-16T15:30:02.000Z');
    expect(scheduler.tick().fired).toEqual([scheduleId]);
    await scheduler.idle();

    const scans = agent.scans();
    const [scan] = scans.list({ scheduleId });
    expect(scan).toMatchObject({ kind: 'schedule', status: 'completed', slot_at: '2027-01-16T15:30:00.000Z' });
    const report = scans.report(scan!.id)!;
    const ssh = report.hosts.find((host) => host.ip === '127.0.30.2');
    expect(ssh?.mac).toBe(macs.ssh);
    expect(ssh?.findings.map((finding) => finding.cve_id)).toContain('CVE-2023-38408');
    expect(messages()).toContain('schedule fired');
    expect(await agent.stop()).toBe(0);
  });
});

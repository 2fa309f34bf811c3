import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgentProcess, runCli } from '../../helpers/agent-process.js';
import { startNotifyListener } from '../../helpers/notify-listener.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const scheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';

function configText(extra = ''): string {
  return [
    `site_id: ${siteId}`,
    'subnets: [127.0.10.0/24]',
    'router: {host: 127.0.0.1, user: edge-cve, password: "hunter2-secret"}',
    'scheduler: {timezone: Europe/London}',
    'schedules:',
    `  - {id: ${scheduleId}, description: nightly, day_of_week: 0, time_of_day: "02:30", every_n_weeks: 2, min_cvss: 4, warning_threshold: 7}`,
    extra,
  ].join('\n');
}

function writeConfig(dir: string, text: string): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

describe('cve-agent run (a real process)', () => {
  it('reports READY=1 with a status once armed, STOPPING=1 on SIGTERM, and exits 0 within 10 s', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, configText());
    const notify = await startNotifyListener();
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', path.join(dir, 'state')], {
      NOTIFY_SOCKET: notify.address,
      WATCHDOG_USEC: '2000000',
    });
    await notify.waitFor((all) => all.some((d) => d.data.includes('READY=1')));
    const ready = notify.received.find((d) => d.data.includes('READY=1'));
    expect(ready?.data).toContain('STATUS=1 schedule(s) armed');
    // The CVE database exists from the first start, with the starter feed, and its age is said.
    expect(ready?.data).toMatch(/; CVE data: 78 CVEs, \d+ day\(s\) old/);
    expect(ready?.pid).toBe(agent.child.pid);
    const readyLog = await agent.waitForLog('agent ready');
    expect(readyLog.cve_data).toMatchObject({ cves: 78 });
    // The starter feed's newest record is older than the default 7 days: said once at start.
    expect(agent.logs.some((l) => l.level === 40 && /^the CVE data is \d+ day\(s\) old/.test(String(l.msg)))).toBe(true);
    // The watchdog is fed at half of WATCHDOG_USEC while the scheduler ticks.
    await notify.waitFor((all) => all.filter((d) => d.data === 'WATCHDOG=1').length >= 2, 5000);

    const signalledAt = performance.now();
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    await notify.waitFor((all) => all.some((d) => d.data.includes('STOPPING=1')));
    expect(agent.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['stop requested', 'agent stopping', 'agent stopped']));
    expect(agent.logs.find((l) => l.msg === 'agent stopped')?.exit_code).toBe(0);
  });

  it('never logs the router password', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, configText('log_level: trace'));
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', path.join(dir, 'state')]);
    await agent.waitForLog('agent ready');
    agent.child.kill('SIGINT');
    expect((await agent.exited).code).toBe(0);
    const everything = JSON.stringify(agent.logs) + agent.stderr();
    expect(everything).not.toContain('hunter2-secret');
  });

  it('on SIGHUP applies a valid new config without a restart, and refuses an invalid one keeping the old', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, configText());
    const state = path.join(dir, 'state');
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', state]);
    await agent.waitForLog('agent ready');

    writeConfig(dir, configText().replace('time_of_day: "02:30"', 'time_of_day: "04:45"'));
    agent.child.kill('SIGHUP');
    const reloaded = await agent.waitForLog('config reloaded');
    expect(reloaded.schedules).toEqual({ added: 0, updated: 1, removed: 0 });

    writeConfig(dir, configText().replace('every_n_weeks: 2', 'every_n_weeks: 1').replace('127.0.10.0/24', '127.0.10.0/21'));
    agent.child.kill('SIGHUP');
    const refused = await agent.waitForLog(/^config reload refused/);
    expect(refused.msg).toContain(config);
    expect(refused.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^subnets\.0: expected a prefix between \/22 and \/32/),
        expect.stringMatching(/^schedules\.0\.every_n_weeks:/),
      ]),
    );
    expect(agent.child.exitCode).toBeNull();

    writeConfig(dir, configText().replace(siteId, '11111111-2222-4333-8444-555555555555').replace('time_of_day: "02:30"', 'time_of_day: "04:45"'));
    agent.child.kill('SIGHUP');
    const restart = await agent.waitForLog('config changes that need a restart were not applied');
    expect(restart.keys).toEqual(['site_id']);

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    // The applied reload is in the database: the slot moved to 04:45 London time.
    const listed = await runCli(['--config', config, '--data-dir', state, '--json', 'schedules', 'list']);
    const [schedule] = JSON.parse(listed.stdout) as { time_of_day: string; next_scan_at: string }[];
    expect(schedule?.time_of_day).toBe('04:45');
    expect(schedule?.next_scan_at).toMatch(/T04:45:00[+-]\d\d:\d\d$/);
  });

  it('refuses to start a second agent on the same state directory (exit 75) and leaves the first running', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, configText());
    const state = path.join(dir, 'state');
    const first = startAgentProcess(['run', '--config', config, '--data-dir', state]);
    await first.waitForLog('agent ready');
    const second = await runCli(['run', '--config', config, '--data-dir', state]);
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(`another cve-agent is running on ${state}`);
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('exits 78 on an invalid config, naming the file and the key', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, configText().replace('host: 127.0.0.1,', 'host: 127.0.0.1, port: abc,'));
    const result = await runCli(['run', '--config', config, '--data-dir', path.join(dir, 'state')]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`invalid config ${config}:`);
    expect(result.stderr).toContain('router.port: expected integer 1..65535, got "abc"');
  });

  it('starts on embedded defaults without a config file', async () => {
    const dir = tempDir();
    const agent = startAgentProcess(['run', '--data-dir', path.join(dir, 'state')]);
    const ready = await agent.waitForLog('agent ready');
    expect(ready.state_dir).toBe(path.join(dir, 'state'));
    expect(ready.site_id).toMatch(/^[0-9a-f-]{36}$/);
    agent.child.kill('SIGINT');
    expect((await agent.exited).code).toBe(0);
  });
});

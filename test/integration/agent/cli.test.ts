import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const configScheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';

function setup() {
  const dir = tempDir();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `site_id: ${siteId}`,
      'subnets: [127.0.10.0/24, 127.0.11.0/24]',
      'scheduler: {timezone: America/New_York}',
      'schedules:',
      `  - {id: ${configScheduleId}, description: from config, day_of_week: 0, time_of_day: "01:30", every_n_weeks: 2, min_cvss: 4, warning_threshold: 7}`,
    ].join('\n'),
  );
  const base = ['--config', config, '--data-dir', path.join(dir, 'state')];
  return { dir, config, base };
}

describe('cve-agent CLI', () => {
  it('check-config says valid, or exits 78 naming the key', async () => {
    const { base, config, dir } = setup();
    const ok = await runCli([...base, 'check-config']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${config}: valid (1 local schedule(s)`);
    const json = await runCli([...base, '--json', 'check-config']);
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, file: config, schedules: 1 });

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'scheduler: {missed_run_grace: soon}\nunknown_key: 1\n');
    const result = await runCli(['--config', bad, 'check-config']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('scheduler.missed_run_grace: expected a duration like 90m or 6h, got "soon"');
    expect(result.stderr).toContain('unknown_key: unknown key');
  });

  it('adds, lists and removes CLI schedules; sites default to the config site and subnets', async () => {
    const { base } = setup();
    const added = await runCli([...base, '--json', 'schedules', 'add', '--day', '3', '--time', '7:05', '--every', '3', '--min-cvss', '5', '--warning', '8.5']);
    expect(added.code, added.stderr).toBe(0);
    const schedule = JSON.parse(added.stdout) as Record<string, unknown>;
    expect(schedule).toMatchObject({
      origin: 'cli',
      day_of_week: 3,
      time_of_day: '07:05',
      every_n_weeks: 3,
      timezone: 'America/New_York',
      min_cvss: 5,
      warning_threshold: 8.5,
      sites: [
        { id: siteId, subnet: '127.0.10.0/24' },
        { id: siteId, subnet: '127.0.11.0/24' },
      ],
      last_run_at: null,
    });
    expect(schedule.next_scan_at).toMatch(/T07:05:00-0[45]:00$/);

    const listed = JSON.parse((await runCli([...base, '--json', 'schedules', 'list'])).stdout) as { id: string; origin: string }[];
    expect(listed.map((s) => s.origin).sort()).toEqual(['cli', 'config']);
    const table = await runCli([...base, 'schedules', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+ORIGIN\s+WHEN\s+ZONE/);
    expect(table.stdout).toContain('Wed 07:05 every 3 wk');

    const removed = await runCli([...base, 'schedules', 'remove', String(schedule.id)]);
    expect(removed.code).toBe(0);
    const again = await runCli([...base, 'schedules', 'remove', String(schedule.id)]);
    expect(again.code).toBe(66);
    expect(again.stderr).toContain(`no schedule has the id ${String(schedule.id)}`);
  });

  it('refuses a schedule that breaks the API rules with one line per rule (exit 65)', async () => {
    const { base } = setup();
    const result = await runCli([...base, 'schedules', 'add', '--day', '9', '--time', '25:00', '--every', '1', '--min-cvss', '8', '--warning', '7']);
    expect(result.code).toBe(65);
    expect(result.stderr).toMatch(/day_of_week: /);
    expect(result.stderr).toMatch(/time_of_day: /);
    expect(result.stderr).toMatch(/every_n_weeks: /);
    expect(result.stderr).toMatch(/warning_threshold: /);
  });

  it('will not remove a schedule that comes from the config file', async () => {
    const { base } = setup();
    await runCli([...base, 'schedules', 'list']);
    const result = await runCli([...base, 'schedules', 'remove', configScheduleId]);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('remove it there and reload');
  });

  it('next prints each run in the schedule zone and in UTC', async () => {
    const { base } = setup();
    await runCli([...base, 'schedules', 'add', '--day', '0', '--time', '01:30', '--id', '0c8f0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00', '--timezone', 'UTC']);
    const json = await runCli([...base, '--json', 'next', '--count', '3']);
    const all = JSON.parse(json.stdout) as { id: string; timezone: string; runs: { local: string; utc: string }[] }[];
    expect(all.map((s) => s.id).sort()).toEqual(['0c8f0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00', configScheduleId]);
    const entry = all.find((s) => s.timezone === 'UTC');
    expect(entry?.runs).toHaveLength(3);
    for (const run of entry?.runs ?? []) {
      expect(run.local).toMatch(/T01:30:00Z$/);
      expect(new Date(run.utc).getUTCDay()).toBe(0);
    }
    const gaps = (entry?.runs ?? []).slice(1).map((run, i) => Date.parse(run.utc) - Date.parse(entry?.runs[i]?.utc ?? ''));
    expect(gaps).toEqual([14 * 86400_000, 14 * 86400_000]);
    const human = await runCli([...base, 'next']);
    expect(human.stdout.split('\n')[0]).toMatch(/^SCHEDULE\s+ZONE\s+LOCAL\s+UTC/);
  });

  it('exits 64 on a usage error and 0 on --help', async () => {
    expect((await runCli(['no-such-command'])).code).toBe(64);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('schedules');
  });
});

describe('cve-agent refuses options that make no sense (usage error, exit 64, nothing run)', () => {
  it.each([
    [['scan', '--subnet', '127.0.99.0/30', '--concurrency', '0'], /--concurrency <n>.*'0' is invalid\. expected a whole number from 1/],
    [['scan', '--subnet', '127.0.99.0/30', '--per-host', '0'], /--per-host <n>.*'0' is invalid/],
    [['scan', '--subnet', '127.0.99.0/30', '--rate', '-1'], /--rate <n>.*'-1' is invalid/],
    [['next', '-n', 'abc'], /--count <n>.*'abc' is invalid/],
    [['next', '-n', '0'], /--count <n>.*'0' is invalid\. expected a whole number from 1 to 100/],
    [['next', '-n', '-3'], /--count <n>.*'-3' is invalid/],
    [['report'], /give a scan id \(or label\) or --latest/],
  ])('%j', async (args, message) => {
    const { base } = setup();
    const result = await runCli([...base, ...args]);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a subnet with host bits set, as the config does (exit 65)', async () => {
    const { base } = setup();
    const result = await runCli([...base, 'scan', '--subnet', '127.0.99.5/24']);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('"127.0.99.5/24": host bits set, did you mean 127.0.99.0/24?');
  });
});

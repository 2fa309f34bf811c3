import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';
import { agentCli } from '../../helpers/cli.js';

const cli = agentCli;
const stackLine = /\n\s+at /;

/** The CLI as the unprivileged user `nobody`, as a service user meets a root-made state directory. */
function runAsNobody(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, cli, ...args], {
      env: { ...process.env, NOTIFY_SOCKET: '', HOME: '/nonexistent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A directory every user may enter (temp dirs are 0700), owned by root. */
function sharedDir(): string {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  return dir;
}

describe('no stack trace reaches a user: one line naming the cause, a documented exit code', () => {
  it('a database created by root and opened by the service user is read-only: exit 77 with what to do', async () => {
    const dir = sharedDir();
    const state = path.join(dir, 'state');
    expect((await runCli(['--data-dir', state, 'schedules', 'list'])).code).toBe(0); // root creates agent.db
    chmodSync(state, 0o755);
    const result = await runAsNobody(['--data-dir', state, 'schedules', 'add', '--day', '1', '--time', '02:00', '--every', '2']);
    expect(result.code).toBe(77);
    expect(result.stderr).not.toMatch(stackLine);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^cve-agent: .*(read-only|permission denied).*sudo -u cve-agent/);
  });

  it('an unwritable state directory: the daemon exits 77 on one line and logs no clean stop', async () => {
    const dir = sharedDir();
    const locked = path.join(dir, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    const result = await runAsNobody(['--data-dir', path.join(locked, 'state'), 'run']);
    expect(result.code).toBe(77);
    expect(result.stderr).not.toMatch(stackLine);
    expect(result.stderr).toMatch(/^cve-agent: permission denied on .*locked\/state.*chown/);
    expect(result.stdout).not.toContain('"agent stopped"');
  });

  it('a closed pipe (`next --json | head`) ends the command quietly with exit 0', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'config.yaml');
    const schedules = Array.from(
      { length: 12 },
      (_, i) =>
        `  - {id: 00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}, description: s${i}, day_of_week: ${i % 7}, time_of_day: "0${i % 10}:15", every_n_weeks: 2, min_cvss: 4, warning_threshold: 7}`,
    );
    writeFileSync(config, ['site_id: 3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90', 'subnets: [127.0.10.0/24]', 'schedules:', ...schedules].join('\n'));
    const result = await new Promise<{ status: string; stderr: string }>((resolve) => {
      // ~100 KB of JSON into a pipe whose reader leaves after 10 bytes.
      const script = `"${process.execPath}" --import tsx "${cli}" --config "${config}" --data-dir "${dir}/state" --json next -n 100 | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`;
      const child = spawn('bash', ['-c', script]);
      let out = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', () => resolve({ status: out.trim(), stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe('0');
  });
});

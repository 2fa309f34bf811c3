import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { tempDir } from '../../helpers/temp.js';
import { JWT_SECRET } from './harness.js';
import { controlPlaneCli } from '../../helpers/cli.js';
import { startNotifyListener } from '../../helpers/notify-listener.js';

const cli = controlPlaneCli;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function writeConfig(dir: string, extra = ''): string {
  const file = path.join(dir, 'control-plane.yaml');
  // TEST_LISTEN_HOST: engineers sharing a machine each keep to their own loopback address.
  const host = process.env.TEST_LISTEN_HOST ?? '127.0.0.1';
  writeFileSync(file, `state_dir: ${dir}/state\nlog_level: info\nlisten:\n  host: ${host}\n  port: 0\nauth:\n  hs256_secret: ${JWT_SECRET}\n${extra}`);
  return file;
}

describe('cve-control-plane CLI', () => {
  it('adds, lists and re-keys sites; the token is shown once and stored only as a hash', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const added = await run(['--config', config, '--json', 'sites', 'add', '--org', 'org-a', '--name', 'Main office']);
    expect(added.code, added.stderr).toBe(0);
    const site = JSON.parse(added.stdout) as { id: string; token: string; org_id: string };
    expect(site).toMatchObject({ org_id: 'org-a', token: expect.stringMatching(/^ecp_[A-Za-z0-9_-]{43}$/) });
    const listed = await run(['--data-dir', `${dir}/state`, 'sites', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${site.id}\\s+org-a\\s+Main office\\s+never`));
    expect(listed.stdout).not.toContain(site.token);
    const rotated = await run(['--config', config, '--json', 'sites', 'rotate-token', site.id]);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ id: site.id, token: expect.not.stringMatching(site.token) });
    const missing = await run(['--config', config, 'sites', 'rotate-token', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain('no site');
    const bad = await run(['--config', config, 'sites', 'add', '--org', 'org-a', '--name', 'x', '--id', 'nope']);
    expect(bad.code).toBe(65);
    expect((await run(['--config', path.join(dir, 'absent.yaml'), 'sites', 'list'])).code).toBe(78);
    expect((await run(['sites', 'list'])).code).toBe(78);
  });

  it('opens the configured store in every command: store.sqlite.path, refused with 78 when the store section is wrong', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, 'store:\n  sqlite:\n    path: db/elsewhere.db\n');
    const added = await run(['--config', config, '--json', 'sites', 'add', '--org', 'org-a', '--name', 'Branch']);
    expect(added.code, added.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'db/elsewhere.db'))).toBe(true);
    expect(existsSync(path.join(dir, 'state/control-plane.db'))).toBe(false);
    const listed = await run(['--config', config, 'operators', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((await run(['--config', config, 'sites', 'list'])).stdout).toContain('Branch');
    const both = writeConfig(tempDir(), 'store:\n  sqlite: {}\n  postgres:\n    url_env: CP_TEST_UNSET_URL\n');
    const refused = await run(['--config', both, 'sites', 'list']);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('store.postgres: give only one of sqlite, postgres');
  });

  it('serves until SIGTERM: the API answers, an agent with its token connects, and it stops cleanly', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const site = JSON.parse((await run(['--config', config, '--json', 'sites', 'add', '--org', 'org-a', '--name', 'a'])).stdout) as {
      id: string;
      token: string;
    };
    const child = spawn(process.execPath, [cli, '--config', config, 'serve']);
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    await expect.poll(() => logs.find((l) => l.msg === 'control plane ready'), { timeout: 15_000 }).toBeDefined();
    const url = String(logs.find((l) => l.msg === 'control plane ready')?.url);
    expect((await (await fetch(`${url}/healthz`)).json()) as unknown).toMatchObject({ status: 'ok' });
    const agent = new SimulatedAgent({ url, token: site.token, siteId: site.id });
    await agent.connect();
    expect((await (await fetch(`${url}/healthz`)).json()) as unknown).toMatchObject({ agents_connected: 1 });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await agent.waitFor(() => agent.closes.length > 0);
    expect(agent.closes[0]?.code).toBe(1001);
    expect(logs.map((l) => l.msg)).toContain('control plane stopped');
    expect(JSON.stringify(logs)).not.toContain(JWT_SECRET);
    expect(JSON.stringify(logs)).not.toContain(site.token);
  });

  it('tells systemd: READY=1 once serving, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 when SIGTERM arrives', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const notify = await startNotifyListener();
    const child = spawn(process.execPath, [cli, '--config', config, 'serve'], {
      env: { ...process.env, NOTIFY_SOCKET: notify.address, WATCHDOG_USEC: '2000000' },
    });
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    await notify.waitFor((all) => all.some((d) => d.data.startsWith('READY=1')), 15_000);
    const ready = notify.received.find((d) => d.data.startsWith('READY=1'));
    const url = String(logs.find((l) => l.msg === 'control plane ready')?.url);
    expect(ready?.data).toBe(`READY=1\nSTATUS=serving on ${url}; store sqlite`);
    // Sent by the node process itself, so the unit's NotifyAccess=main accepts it.
    expect(ready?.pid).toBe(child.pid);
    // READY=1 comes once the API answers.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await notify.waitFor((all) => all.filter((d) => d.data === 'WATCHDOG=1').length >= 2, 5000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const all = await notify.waitFor((received) => received.some((d) => d.data === 'STOPPING=1'));
    expect(all.map((d) => d.data).filter((d) => d !== 'WATCHDOG=1')).toEqual([ready?.data, 'STOPPING=1']);
    expect(logs.map((l) => l.msg)).toContain('control plane stopped');
  });

  it('refuses to start on an invalid config (78) or a port in use (69)', async () => {
    const dir = tempDir();
    const invalid = path.join(dir, 'bad.yaml');
    writeFileSync(invalid, 'auth:\n  hs256_secret: short\nlisten:\n  prot: 1\n');
    const refused = await run(['--config', invalid, 'serve']);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('listen.prot: unknown key');
    const blocker = (await import('node:net')).createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const file = path.join(dir, 'busy.yaml');
    writeFileSync(file, `state_dir: ${dir}/state2\nlisten:\n  host: 127.0.0.1\n  port: ${port}\nauth:\n  hs256_secret: ${JWT_SECRET}\n`);
    const inUse = await run(['--config', file, 'serve']);
    blocker.close();
    expect(inUse.code).toBe(69);
    expect(inUse.stderr).toContain('cannot listen');
  });
});

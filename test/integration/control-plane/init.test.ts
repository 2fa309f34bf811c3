import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConfig as buildAgentConfig } from '../../../src/agent/config/load.js';
import { loadConfig } from '../../../src/control-plane/config/load.js';
import { controlPlaneCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/temp.js';

// This file's own loopback address (the walk test uses 127.0.115.1).
const HOST = '127.0.115.2';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [controlPlaneCli, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const secretOf = (file: string) => (parse(readFileSync(file, 'utf8')) as { auth: { hs256_secret: string } }).auth.hs256_secret;

// Each case starts several CLI processes: a loaded two-core CI machine needs more than the default 30 s.
describe('cve-control-plane init', () => {
  it('writes a 0600 config with a fresh signing key that serve starts from, and says what comes next', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'etc', 'config.yaml');
    const env = { STATE_DIRECTORY: path.join(dir, 'state') };
    // As root, the file goes to the service user (here `nobody`, which every Debian host has); otherwise it stays the caller's.
    const root = process.getuid?.() === 0;
    const init = await run(['init', '--config', config, '--listen', `${HOST}:0`, '--public-url', `http://${HOST}:8780/`, '--user', 'nobody']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe('');
    const stat = statSync(config);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(root ? 65534 : process.getuid?.());
    expect(init.stdout).toContain(`wrote ${config} (mode 0600${root ? ', owner nobody' : ''}) with a new signing key`);
    expect(init.stdout).toContain('systemctl enable --now cve-control-plane');
    expect(init.stdout).toContain(`cve-control-plane --config ${config} sites add --org <org> --name <site name>`);
    expect(init.stdout).toContain(`cve-control-plane --config ${config} tokens mint --org <org> --scopes "cve:view cve:create" --ttl 90d`);

    const { config: loaded } = loadConfig(config, { env });
    expect(loaded).toMatchObject({ listen: { host: HOST, port: 0 }, public_url: `http://${HOST}:8780`, auth: { kind: 'hs256' } });
    expect(secretOf(config)).toMatch(/^[A-Za-z0-9+/]{64}$/);
    // The `default` notification group a schedule can name from the first day, with no receiver yet.
    expect(loaded.notification_groups.default?.webhooks).toEqual([]);

    const serve = spawn(process.execPath, [controlPlaneCli, '--config', config, 'serve'], { env: { ...process.env, ...env, NOTIFY_SOCKET: '' } });
    onTestFinished(() => void (serve.exitCode === null && serve.kill('SIGKILL')));
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: serve.stdout }).on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    await expect.poll(() => logs.find((l) => l.msg === 'control plane ready'), { timeout: 25_000 }).toBeDefined();
    const url = String(logs.find((l) => l.msg === 'control plane ready')?.url);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => serve.on('exit', resolve));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.stringify(logs)).not.toContain(secretOf(config));
  }, 120_000);

  it('refuses to replace a config without --force (73, one line); --force makes a new key; a bad --listen is a usage error', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'config.yaml');
    expect((await run(['init', '--config', config])).code).toBe(0);
    const first = secretOf(config);
    const again = await run(['init', '--config', config]);
    expect(again.code).toBe(73);
    expect(again.stderr).toBe(`cve-control-plane: ${config} exists already; give --force to replace it (its signing key too: every token stops working)\n`);
    expect(secretOf(config)).toBe(first);
    const forced = await run(['init', '--config', config, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(secretOf(config)).not.toBe(first);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    for (const listen of ['8780', 'host:99999', '[::1]8780']) {
      const refused = await run(['init', '--config', path.join(dir, 'other.yaml'), '--listen', listen]);
      expect(refused.code, listen).toBe(64);
      expect(refused.stderr, listen).toContain('expected host:port');
    }
    const badUrl = await run(['init', '--config', path.join(dir, 'other.yaml'), '--public-url', 'ftp://x']);
    expect(badUrl.code).toBe(78);
    expect(badUrl.stderr).toContain('public_url: expected an http:// or https:// URL');
  }, 120_000);

  it("sites add prints the agent's config lines: they validate as the agent's config and dial the public URL", async () => {
    const dir = tempDir();
    const config = path.join(dir, 'config.yaml');
    const env = { STATE_DIRECTORY: path.join(dir, 'state') };
    expect((await run(['init', '--config', config, '--listen', '0.0.0.0:8780', '--public-url', 'https://cve.example.net/edge'])).code).toBe(0);
    const added = await run(['--config', config, 'sites', 'add', '--org', 'acme', '--name', 'Main office'], env);
    expect(added.code, added.stderr).toBe(0);
    const { config: agent } = buildAgentConfig(parse(added.stdout), path.join(dir, 'agent.yaml'), { env: {} });
    expect(agent.control_plane).toMatchObject({ url: 'wss://cve.example.net/edge', token: expect.stringMatching(/^ecp_/) });
    const listed = JSON.parse((await run(['--config', config, '--json', 'sites', 'list'], env)).stdout) as { id: string }[];
    expect(agent.site_id).toBe(listed[0]?.id);
    expect(added.stdout.split('\n')[0]).toBe('# cve-agent config for site "Main office": paste into /etc/cve-agent/config.yaml (the token is shown once)');

    // Without public_url, the listen address; --url wins over both; --json carries it.
    const plain = path.join(dir, 'plain.yaml');
    expect((await run(['init', '--config', plain, '--listen', `${HOST}:8781`])).code).toBe(0);
    const local = await run(['--config', plain, '--json', 'sites', 'add', '--org', 'acme', '--name', 'Lab'], env);
    expect(JSON.parse(local.stdout)).toMatchObject({ name: 'Lab', url: `ws://${HOST}:8781`, token: expect.stringMatching(/^ecp_/) });
    const chosen = await run(['--config', plain, 'sites', 'add', '--org', 'acme', '--name', 'Lab 2', '--url', 'wss://proxy.example.net'], env);
    expect(chosen.stdout).toContain('\n  url: wss://proxy.example.net\n');
    const wrong = await run(['--config', plain, 'sites', 'add', '--org', 'acme', '--name', 'Lab 3', '--url', 'http://proxy.example.net'], env);
    expect(wrong.code).toBe(65);
    expect(wrong.stderr).toBe('cve-control-plane: --url: expected a ws:// or wss:// URL, got "http://proxy.example.net"\n');
  }, 120_000);
});

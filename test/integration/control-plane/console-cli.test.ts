import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlPlaneCli } from '../../helpers/cli.js';
import { storeConfigLine } from '../../helpers/store-engine.js';
import { tempDir } from '../../helpers/temp.js';
import type { Harness } from './harness.js';
import { JWT_SECRET } from './harness.js';
import { Browser, CONSOLE_HOST, PASSWORD } from './console-kit.js';
import { startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [controlPlaneCli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function setup(auth = `auth:\n  hs256_secret: ${JWT_SECRET}\n`) {
  const dir = tempDir();
  const config = path.join(dir, 'control-plane.yaml');
  writeFileSync(config, `state_dir: ${dir}/state\n${await storeConfigLine(`${dir}/state`)}\nlisten:\n  host: ${CONSOLE_HOST}\n  port: 0\n${auth}`);
  return { dir, config, state: `${dir}/state` };
}

const consoleOn = (state: string) => startHarness({ dir: state, config: { listen: { host: CONSOLE_HOST, port: 0 } } });

describe('cve-control-plane operators and tokens', () => {
  it('adds the first admin (password on stdin or in a file, never argv), lists, resets the password and removes', async () => {
    const { dir, config, state } = await setup();
    const added = await run(
      ['--config', config, 'operators', 'add', '--org', 'org-a', '--email', 'Ada@Example.net', '--name', 'Ada', '--role', 'admin'],
      `${PASSWORD}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('operator ada@example.net (admin) added to organization org-a');
    const file = path.join(dir, 'viewer-password');
    writeFileSync(file, 'another long passphrase\n');
    const viewer = await run([
      '--config',
      config,
      '--json',
      'operators',
      'add',
      '--org',
      'org-b',
      '--email',
      'vic@example.net',
      '--name',
      'Vic',
      '--role',
      'viewer',
      '--password-file',
      file,
    ]);
    expect(JSON.parse(viewer.stdout)).toMatchObject({ org_id: 'org-b', email: 'vic@example.net', role: 'viewer' });

    const listed = await run(['--config', config, 'operators', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+ORG\s+EMAIL\s+NAME\s+ROLE\s+CREATED\n/);
    expect(listed.stdout).toMatch(/org-a\s+ada@example\.net\s+Ada\s+admin/);
    expect(listed.stdout).not.toContain('scrypt');
    const onlyB = JSON.parse((await run(['operators', 'list', '--config', config, '--org', 'org-b', '--json'])).stdout) as { email: string }[];
    expect(onlyB.map((o) => o.email)).toEqual(['vic@example.net']);

    // The console accepts the CLI's operator; a reset ends the session and the old password.
    h = await consoleOn(state);
    const browser = new Browser(h.url);
    expect((await browser.login('ada@example.net')).status).toBe(200);
    const reset = await run(['--config', config, 'operators', 'reset-password', '--email', 'ada@example.net'], 'a brand new passphrase\n');
    expect(reset.code, reset.stderr).toBe(0);
    expect((await browser.send('GET', '/console/session')).status).toBe(401);
    expect((await new Browser(h.url).login('ada@example.net')).status).toBe(401);
    expect((await new Browser(h.url).login('ada@example.net', 'a brand new passphrase')).status).toBe(200);

    const removed = await run(['--config', config, 'operators', 'remove', '--email', 'vic@example.net']);
    expect(removed.code).toBe(0);
    expect((await run(['--config', config, '--json', 'operators', 'list', '--org', 'org-b'])).stdout).toBe('[]\n');
  });

  it('exits with the documented codes: 65 for a bad argument or short password, 66 for an unknown email, 64 for a missing option', async () => {
    const { config } = await setup();
    const add = (args: string[], stdin = `${PASSWORD}\n`) =>
      run(['--config', config, 'operators', 'add', '--org', 'org-a', '--email', 'ada@example.net', '--name', 'Ada', '--role', 'admin', ...args], stdin);
    const short = await add([], 'short\n');
    expect(short.code).toBe(65);
    expect(short.stderr).toContain('password: expected at least 12 characters');
    expect((await add(['--role', 'root'])).stderr).toContain('--role: expected viewer, operator or admin');
    expect((await add(['--email', 'not-an-email'])).code).toBe(65);
    expect((await add([])).code).toBe(0);
    const again = await add([]);
    expect(again.code).toBe(65);
    expect(again.stderr).toContain('exists already');
    const unknown = await run(['--config', config, 'operators', 'remove', '--email', 'nobody@example.net']);
    expect(unknown.code).toBe(66);
    expect((await run(['--config', config, 'operators', 'reset-password', '--email', 'nobody@example.net'], `${PASSWORD}\n`)).code).toBe(66);
    expect((await run(['--config', config, 'operators', 'add', '--org', 'org-a'])).code).toBe(64);
    // No --password option exists: a password on argv is a usage error.
    expect((await add(['--password', PASSWORD])).code).toBe(64);
  });

  it('mints a token that works as a bearer and is revocable in the console; 78 when auth is a JWKS', async () => {
    const { config, state } = await setup();
    const mint = (...args: string[]) => run(['--config', config, 'tokens', 'mint', '--org', 'org-a', ...args]);
    const minted = await mint('--sub', 'ci', '--scopes', 'cve:view cve:create', '--ttl', '7d');
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const bad = await mint('--sub', 'ci', '--scopes', 'cve:everything', '--ttl', '7d');
    expect(bad.code).toBe(65);
    expect(bad.stderr).toBe(
      'cve-control-plane: --scopes: expected scopes among cve:view, cve:create, cve:update, cve:delete, cp:admin (space- or comma-separated), got cve:everything\n',
    );
    for (const ttl of ['366d', '0m', '12']) {
      const refused = await mint('--scopes', 'cve:view', '--ttl', ttl);
      expect(refused.code, ttl).toBe(64);
      expect(refused.stderr, ttl).toContain("option '--ttl <lifetime>' argument");
    }
    // Comma-separated scopes, a lifetime in hours, and the sub defaulted to cli.
    const hours = await run(['--config', config, '--json', 'tokens', 'mint', '--org', 'org-a', '--scopes', 'cve:view,cve:update', '--ttl', '12h']);
    expect(hours.code, hours.stderr).toBe(0);
    const short = JSON.parse(hours.stdout) as { scopes: string[]; expires_at: string; token: string };
    expect(short.scopes).toEqual(['cve:view', 'cve:update']);
    const claims = JSON.parse(Buffer.from(short.token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number; iat: number };
    expect(claims).toMatchObject({ sub: 'cli', org: 'org-a', scope: 'cve:view cve:update' });
    expect(claims.exp - claims.iat).toBe(12 * 3600);
    expect(Math.floor(Date.parse(short.expires_at) / 1000)).toBe(claims.exp);

    h = await consoleOn(state);
    expect((await h.request('GET', '/scans/cve', { token })).status).toBe(200);
    const row = (await h.store.apiTokens.list('org-a')).find((r) => r.name === 'ci');
    expect(row).toMatchObject({ name: 'ci', scopes: ['cve:view', 'cve:create'], created_by: 'cli', revoked_at: null });
    await h.request('DELETE', `/console/tokens/${row?.id}`, { token: await h.jwt({ scope: 'cp:admin' }) });
    expect((await h.request('GET', '/scans/cve', { token })).body).toMatchObject({ code: 'token_revoked' });

    const jwks = await setup('auth:\n  jwks_url: http://127.0.80.2:9/jwks.json\n');
    const refused = await run(['--config', jwks.config, 'tokens', 'mint', '--org', 'org-a', '--scopes', 'cve:view', '--ttl', '7d']);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('identity provider');
  }, 120_000);
});

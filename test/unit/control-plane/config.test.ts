import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../../src/control-plane/config/schema.js';
import { buildConfig, loadConfig } from '../../../src/control-plane/config/load.js';
import { ControlPlaneError } from '../../../src/control-plane/errors.js';
import { tempDir } from '../../helpers/temp.js';

const secret = 'a-secret-of-at-least-thirty-two-bytes-0000000';
const problems = (raw: unknown): string => {
  try {
    buildConfig(raw, 'cp.yaml', { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as ControlPlaneError).exitCode).toBe(78);
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('control plane config', () => {
  it('fills defaults, binds loopback, and freezes the result', () => {
    const { config } = buildConfig({ auth: { hs256_secret: secret }, state_dir: '/tmp/cp' }, undefined, { env: {} });
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8780, trust_proxy: [] });
    expect(config.console).toEqual({ session_idle_minutes: 720, session_max_hours: 168 });
    expect(config.hub).toEqual({ max_frame_bytes: 524288, hello_timeout_seconds: 10, heartbeat_interval_seconds: 10 });
    expect(config.auth).toMatchObject({ kind: 'hs256', clockToleranceSeconds: 30 });
    expect(Object.isFrozen(config.listen)).toBe(true);
  });

  it('names every problem by its path, in one run', () => {
    const message = problems({
      auth: { hs256_secret: secret, jwks_url: 'https://id.example/jwks' },
      listen: { port: 70000, trust_proxy: ['10.0.0.0/24', 'proxy.local', '10.0.0.0/33'] },
      console: { session_idle_minutes: 0 },
      lsiten: {},
      notification_groups: { ops: { webhooks: ['ftp://x'] } },
    });
    expect(message).toContain('auth.jwks_url: give only one of hs256_secret, jwks_url');
    expect(message).toContain('listen.port: expected integer 0..65535');
    expect(message).toContain('lsiten: unknown key');
    expect(message).toContain('listen.trust_proxy.1: expected an IP address or CIDR');
    expect(message).toContain('listen.trust_proxy.2: expected an IP address or CIDR');
    expect(message).not.toContain('listen.trust_proxy.0');
    expect(message).toContain('console.session_idle_minutes');
    expect(message).toContain('notification_groups.ops.webhooks.0');
    expect(message).toContain('notification_groups.ops: expected one of secret, secret_file, secret_env');
  });

  it('requires an auth method and an HS256 secret of at least 32 bytes', () => {
    expect(problems({})).toContain('auth:');
    expect(problems({ auth: { hs256_secret: 'short' } })).toContain('auth.hs256_secret: expected at least 32 bytes');
    expect(problems({ auth: { hs256_secret_env: 'CP_SECRET' } })).toContain('auth.hs256_secret_env: environment variable CP_SECRET is not set');
  });

  it('reads secrets from files next to the config, and warns when others can read them', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'jwt'), `${secret}\n`);
    chmodSync(path.join(dir, 'jwt'), 0o644);
    writeFileSync(path.join(dir, 'hook'), 'hook-key\n', { mode: 0o600 });
    const file = path.join(dir, 'cp.yaml');
    writeFileSync(file, 'auth:\n  hs256_secret_file: jwt\nnotification_groups:\n  ops:\n    secret_file: hook\n    webhooks: [http://127.0.0.1:1/x]\n');
    const { config, warnings } = loadConfig(file, { env: {} });
    expect(config.auth.kind === 'hs256' && new TextDecoder().decode(config.auth.secret)).toBe(secret);
    expect(config.notification_groups.ops?.secret).toBe('hook-key');
    expect(warnings).toEqual([expect.stringContaining('readable by others')]);
    expect(config.state_dir).toBe('/var/lib/cve-control-plane');
  });

  it('runs no feed hub without a feeds section; with one, every source has defaults and the NVD key comes from a file or the environment', () => {
    expect(buildConfig({ auth: { hs256_secret: secret } }, undefined, { env: {} }).config.feeds).toBeUndefined();
    const { config } = buildConfig({ auth: { hs256_secret: secret }, feeds: { sources: { kev: { url: 'http://127.0.68.1/kev.json' } } } }, undefined, {
      env: {},
    });
    expect(config.feeds?.sources.kev).toEqual({ enabled: true, url: 'http://127.0.68.1/kev.json', schedule: '30 3 * * *' });
    expect(config.feeds?.sources.nvd).toMatchObject({ enabled: true, schedule: '0 */2 * * *' });
    expect(config.feeds?.nvd_api_key).toBe('');
    expect(config.feeds?.max_delta_lines).toBe(100_000);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'nvd-key'), 'nvd-key-from-file\n', { mode: 0o600 });
    const fromFile = buildConfig({ auth: { hs256_secret: secret }, feeds: { sources: { nvd: { api_key_file: 'nvd-key' } } } }, path.join(dir, 'cp.yaml'), {
      env: {},
    });
    expect(fromFile.config.feeds?.nvd_api_key).toBe('nvd-key-from-file');
    const fromEnv = buildConfig({ auth: { hs256_secret: secret }, feeds: { sources: { nvd: { api_key_env: 'NVD_KEY' } } } }, undefined, {
      env: { NVD_KEY: 'k' },
    });
    expect(fromEnv.config.feeds?.nvd_api_key).toBe('k');
    const message = problems({
      auth: { hs256_secret: secret },
      feeds: { sources: { nvd: { api_key: 'a', api_key_env: 'NVD_KEY' }, kev: { schedule: 'daily' }, eps: {} } },
    });
    expect(message).toContain('feeds.sources.nvd.api_key_env: give only one of api_key, api_key_env');
    expect(message).toContain('feeds.sources.kev.schedule');
    expect(message).toContain('feeds.sources.eps: unknown key');
    expect(problems({ auth: { hs256_secret: secret }, feeds: { sources: { nvd: { api_key_env: 'NVD_KEY' } } } })).toContain(
      'feeds.sources.nvd.api_key_env: environment variable NVD_KEY is not set',
    );
  });

  it('keeps the state in SQLite by default; store.postgres takes its URL from a file or the environment, never echoing it', () => {
    const base = { auth: { hs256_secret: secret }, state_dir: '/tmp/cp' };
    expect(buildConfig(base, undefined, { env: {} }).config.store).toEqual({ engine: 'sqlite', path: '/tmp/cp/control-plane.db' });
    expect(buildConfig({ ...base, store: { sqlite: {} } }, undefined, { env: {} }).config.store).toEqual({
      engine: 'sqlite',
      path: '/tmp/cp/control-plane.db',
    });
    const dir = tempDir();
    const atFile = buildConfig({ ...base, store: { sqlite: { path: 'db/cp.db' } } }, path.join(dir, 'cp.yaml'), { env: {} });
    expect(atFile.config.store).toEqual({ engine: 'sqlite', path: path.join(dir, 'db/cp.db') });
    const url = 'postgresql://cve:pw@127.0.0.1:5432/cve';
    writeFileSync(path.join(dir, 'pg-url'), `${url}\n`, { mode: 0o600 });
    const fromFile = buildConfig({ ...base, store: { postgres: { url_file: 'pg-url' } } }, path.join(dir, 'cp.yaml'), { env: {} });
    expect(fromFile.config.store).toEqual({ engine: 'postgres', url, pool: { max: 10 } });
    const fromEnv = buildConfig({ ...base, store: { postgres: { url_env: 'PG_URL', pool: { max: 40 } } } }, undefined, { env: { PG_URL: url } });
    expect(fromEnv.config.store).toEqual({ engine: 'postgres', url, pool: { max: 40 } });
    expect(Object.isFrozen(fromEnv.config.store)).toBe(true);

    expect(problems({ ...base, store: { sqlite: {}, postgres: { url } } })).toContain('store.postgres: give only one of sqlite, postgres');
    expect(problems({ ...base, store: { postgres: {} } })).toContain('store.postgres: expected one of url, url_file, url_env');
    expect(problems({ ...base, store: { postgres: { url, url_env: 'PG_URL' } } })).toContain('store.postgres.url_env: give only one of url, url_env');
    expect(problems({ ...base, store: { postgres: { url, pool: { max: 0 } } } })).toContain('store.postgres.pool.max: expected integer 1..1000');
    expect(problems({ ...base, store: { mysql: {} } })).toContain('store.mysql: unknown key');
    const wrong = problems({ ...base, store: { postgres: { url: 'mysql://cve:hunter2@db/cve' } } });
    expect(wrong).toContain('store.postgres.url: expected a postgres:// or postgresql:// URL');
    expect(wrong).not.toContain('hunter2');
  });

  it('control-plane.example.yaml validates, and so does its commented PostgreSQL store once uncommented', () => {
    const text = readFileSync(new URL('../../../control-plane.example.yaml', import.meta.url), 'utf8');
    expect(configSchema.safeParse(parse(text)).error).toBeUndefined();
    const postgres = text.replace('  sqlite: {}', '').replace(/^ {2}# (postgres:| {2})/gm, '  $1');
    const parsed = configSchema.safeParse(parse(postgres));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.store).toEqual({ postgres: { url_file: '/etc/cve-control-plane/postgres-url', pool: { max: 10 } } });
  });

  it('limits requests per address and per token, with defaults above what the console needs', () => {
    const base = { auth: { hs256_secret: secret } };
    expect(buildConfig(base, undefined, { env: {} }).config.rate_limit).toEqual({ per_address_per_minute: 600, per_token_per_minute: 1200 });
    expect(buildConfig({ ...base, rate_limit: { per_address_per_minute: 5 } }, undefined, { env: {} }).config.rate_limit).toEqual({
      per_address_per_minute: 5,
      per_token_per_minute: 1200,
    });
    const message = problems({ ...base, rate_limit: { per_token_per_minute: 0, per_minute: 3 } });
    expect(message).toContain('rate_limit.per_token_per_minute: expected integer 1..1000000');
    expect(message).toContain('rate_limit.per_minute: unknown key');
  });

  it('refuses YAML with syntax errors or duplicate keys, and a missing file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'cp.yaml');
    writeFileSync(file, 'auth:\n  hs256_secret: a\n  hs256_secret: b\n');
    expect(() => loadConfig(file)).toThrow(/YAML syntax/);
    expect(() => loadConfig(path.join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'CP_ERR_CONFIG_UNREADABLE' }));
  });
});

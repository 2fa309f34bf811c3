import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfig, loadConfig } from '../../../src/agent/config/load.js';
import { AgentError } from '../../../src/agent/errors.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const base = { site_id: siteId, subnets: ['192.168.88.0/24'] };

function errorsOf(raw: unknown, file = '/etc/cve-agent/config.yaml'): string[] {
  try {
    buildConfig(raw, file, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('AGENT_ERR_CONFIG_INVALID');
    expect((error as AgentError).exitCode).toBe(78);
    expect((error as AgentError).message).toContain(file);
    return [...(error as AgentError).details];
  }
  throw new Error('expected the config to be refused');
}

function writeConfig(dir: string, text: string, mode = 0o600): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

describe('config validation', () => {
  it('accepts config.example.yaml as shipped (with its password file present)', () => {
    const dir = tempDir();
    const secret = path.join(dir, 'router-password');
    writeFileSync(secret, 's3cret\n', { mode: 0o600 });
    const raw = parse(readFileSync(new URL('../../../config.example.yaml', import.meta.url), 'utf8')) as { router: Record<string, unknown> };
    raw.router.password_file = secret;
    const { config, warnings } = buildConfig(raw, path.join(dir, 'config.yaml'), { env: {} });
    expect(warnings).toEqual([]);
    expect(config.router?.password).toBe('s3cret');
    expect(config.router?.port).toBe(8728);
    expect(config.schedules).toHaveLength(1);
    expect(config.schedules[0]?.sites).toEqual([{ id: siteId, subnet: '192.168.88.0/24' }]);
    expect(config.scheduler.missed_run_grace).toBe(6 * 3600 * 1000);
  });

  it('names the key, what was expected and what was found', () => {
    expect(errorsOf({ ...base, router: { host: 'r1', user: 'u', port: 'abc' } })).toEqual(['router.port: expected integer 1..65535, got "abc"']);
    expect(errorsOf({ ...base, router: { host: 'r1', user: 'u', port: 70000 } })).toEqual(['router.port: expected integer 1..65535, got 70000']);
  });

  it('reports every problem at once, unknown keys included', () => {
    const errors = errorsOf({ site_id: 'not-a-uuid', log_level: 'loud', subnets: ['10.0.0.0/21', '10.0.0.1/24'], router: { host: 'r', user: 'u', prot: 1 } });
    expect(errors).toEqual(
      expect.arrayContaining([
        'site_id: expected a UUID, got "not-a-uuid"',
        'log_level: expected one of fatal, error, warn, info, debug, trace, got "loud"',
        'subnets.0: expected a prefix between /22 and /32, got "10.0.0.0/21"',
        'subnets.1: host bits set, did you mean 10.0.0.0/24?, got "10.0.0.1/24"',
        'router.prot: unknown key',
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  it('takes scheduler.timezone only as an IANA name, whatever the runtime ICU would take', () => {
    expect(buildConfig({ ...base, scheduler: { timezone: 'Europe/London' } }, undefined, { env: {} }).config.scheduler.timezone).toBe('Europe/London');
    for (const zone of ['+05:00', 'UTC+5', 'GMT+5', 'Mars/Olympus', 'europe/london']) {
      expect(errorsOf({ ...base, scheduler: { timezone: zone } })).toEqual([
        `scheduler.timezone: expected an IANA time zone like Europe/London, got "${zone}"`,
      ]);
    }
  });

  it('follows the transport for the default port and rejects a bad transport', () => {
    expect(buildConfig({ router: { host: 'r', user: 'u', transport: 'api-ssl' } }, undefined, { env: {} }).config.router?.port).toBe(8729);
    expect(buildConfig({ router: { host: 'r', user: 'u', transport: 'ssh' } }, undefined, { env: {} }).config.router?.port).toBe(22);
    expect(errorsOf({ router: { host: 'r', user: 'u', transport: 'telnet' } })).toEqual(['router.transport: expected one of api, api-ssl, ssh, got "telnet"']);
  });

  it('takes pinned fingerprints as ssh-keygen and openssl print them, and refuses anything else', () => {
    const ssh = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';
    const hex = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';
    const router = (extra: Record<string, unknown>) => buildConfig({ router: { host: 'r', user: 'u', ...extra } }, undefined, { env: {} }).config.router;
    expect(router({ ssh_host_key_fingerprint: `${ssh}=`, tls_fingerprint: `sha256 Fingerprint=${hex}` })).toMatchObject({
      ssh_host_key_fingerprint: ssh,
      tls_fingerprint: hex.toUpperCase(),
    });
    expect(router({ tls_fingerprint: hex.replace(/:/g, '') })?.tls_fingerprint).toBe(hex.toUpperCase());
    expect(router({})?.ssh_host_key_fingerprint).toBeUndefined();
    expect(router({})?.tls_fingerprint).toBeUndefined();
    const [sshError] = errorsOf({ router: { host: 'r', user: 'u', ssh_host_key_fingerprint: 'MD5:aa:bb' } });
    expect(sshError).toMatch(/^router\.ssh_host_key_fingerprint: expected an SSH host key fingerprint .*ssh-keygen -lf.*, got "MD5:aa:bb"$/);
    const [tlsError] = errorsOf({ router: { host: 'r', user: 'u', tls_fingerprint: hex.slice(3) } });
    expect(tlsError).toMatch(/^router\.tls_fingerprint: expected a SHA-256 certificate fingerprint .*openssl x509 -fingerprint -sha256/);
  });

  it('checks local schedules with the API rules and names them by index', () => {
    const schedule = { id: '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b', day_of_week: 7, time_of_day: '24:00', every_n_weeks: 2, min_cvss: 4, warning_threshold: 7 };
    const errors = errorsOf({ ...base, schedules: [schedule] });
    expect(errors.some((line) => line.startsWith('schedules.0.day_of_week:'))).toBe(true);
    expect(errors.some((line) => line.startsWith('schedules.0.time_of_day:'))).toBe(true);
    expect(errorsOf({ ...base, schedules: [{ ...schedule, id: 'x', day_of_week: 1, time_of_day: '02:00' }] })).toEqual([
      'schedules.0.id: expected a UUID, got "x"',
    ]);
  });

  it('sends an empty password explicitly when none is given, and gives only one secret source', () => {
    expect(buildConfig({ router: { host: 'r', user: 'u' } }, undefined, { env: {} }).config.router?.password).toBe('');
    expect(errorsOf({ router: { host: 'r', user: 'u', password: 'a', password_env: 'X' } })).toEqual([
      'router.password_env: give only one of password, password_env, got "X"',
    ]);
  });

  it('reads secrets from the environment and refuses a missing variable', () => {
    const raw = { router: { host: 'r', user: 'u', password_env: 'ROUTER_PW' }, control_plane: { url: 'wss://cp.example/agents', token_env: 'CP_TOKEN' } };
    const { config } = buildConfig(raw, undefined, { env: { ROUTER_PW: 'pw', CP_TOKEN: 'tok' } });
    expect(config.router?.password).toBe('pw');
    expect(config.control_plane?.token).toBe('tok');
    expect(errorsOf(raw)).toEqual([
      'router.password_env: environment variable ROUTER_PW is not set',
      'control_plane.token_env: environment variable CP_TOKEN is not set',
      'control_plane.token: expected a token (token, token_file or token_env)',
    ]);
  });

  it('warns when a file holding a secret is readable by others', () => {
    const dir = tempDir();
    const secret = path.join(dir, 'pw');
    writeFileSync(secret, 'pw');
    chmodSync(secret, 0o644);
    const file = writeConfig(dir, `router: {host: r, user: u, password_file: pw}\n`);
    expect(loadConfig(file, { env: {} }).warnings).toEqual([`router.password_file: ${secret} is readable by others; chmod 600 it`]);
    chmodSync(secret, 0o600);
    expect(loadConfig(file, { env: {} }).warnings).toEqual([]);
    const inline = writeConfig(dir, `router: {host: r, user: u, password: hunter2}\n`, 0o644);
    expect(loadConfig(inline, { env: {} }).warnings[0]).toMatch(/^router\.password: .* holds a secret and is readable by others/);
  });

  it('names the file on a YAML syntax error or a missing file, and freezes the result', () => {
    const dir = tempDir();
    const file = writeConfig(dir, 'router: [unclosed\n');
    expect(() => loadConfig(file)).toThrow(new RegExp(`invalid config ${file}:\\n  YAML syntax`));
    expect(() => loadConfig(path.join(dir, 'absent.yaml'))).toThrow(/cannot read config .*absent\.yaml/);
    const { config } = loadConfig(writeConfig(dir, 'subnets: [10.1.0.0/24]\n'), { env: {} });
    expect(Object.isFrozen(config.subnets)).toBe(true);
    expect(() => (config.subnets as string[]).push('x')).toThrow();
  });

  it('takes --data-dir over state_dir and resolves state_dir against the file', () => {
    const dir = tempDir();
    const file = writeConfig(dir, 'state_dir: ./state\n');
    expect(loadConfig(file, { env: {} }).config.state_dir).toBe(path.join(dir, 'state'));
    expect(loadConfig(file, { env: {}, dataDir: '/tmp/elsewhere' }).config.state_dir).toBe('/tmp/elsewhere');
    expect(loadConfig(undefined, { env: { STATE_DIRECTORY: '/var/lib/cve-agent' } }).config.state_dir).toBe('/var/lib/cve-agent');
  });
});

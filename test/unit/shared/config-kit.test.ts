import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYamlFile, resolveSecret, secretContext } from '../../../src/shared/config/kit.js';

describe('resolveSecret: one rule for both daemons', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kit-'));
  const file = path.join(dir, 'secret');
  writeFileSync(file, 's3cret\n');

  it('reads a file without its trailing newline and warns when others can read it', () => {
    chmodSync(file, 0o644);
    const ctx = secretContext(undefined, {});
    expect(resolveSecret('router.password', { inline: undefined, file, env: undefined }, ctx)).toBe('s3cret');
    expect(ctx.warnings).toEqual([`router.password_file: ${file} is readable by others; chmod 600 it`]);
    chmodSync(file, 0o600);
  });

  it('names an unset variable, and an empty required secret', () => {
    const ctx = secretContext(undefined, { EMPTY: '' });
    resolveSecret('control_plane.token', { inline: undefined, file: undefined, env: 'NOPE' }, ctx, { required: 'a token' });
    resolveSecret('auth.hs256_secret', { inline: undefined, file: undefined, env: 'EMPTY' }, ctx, { required: 'a key' });
    expect(ctx.errors).toEqual([
      'control_plane.token_env: environment variable NOPE is not set',
      'control_plane.token: expected a token (token, token_file or token_env)',
      'auth.hs256_secret: expected a key (hs256_secret, hs256_secret_file or hs256_secret_env)',
    ]);
  });

  it('warns about an inline secret in a config file others can read', () => {
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, 'x: 1\n', { mode: 0o644 });
    chmodSync(config, 0o644);
    const ctx = secretContext(config, {});
    expect(resolveSecret('secret', { inline: 'abc', file: undefined, env: undefined }, ctx)).toBe('abc');
    expect(ctx.warnings[0]).toMatch(/holds a secret and is readable by others/);
  });

  it('reads YAML and refuses duplicate keys with a one-line reason', () => {
    const config = path.join(dir, 'dup.yaml');
    writeFileSync(config, 'a: 1\na: 2\n');
    expect(() => readYamlFile(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => readYamlFile(path.join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'CONFIG_UNREADABLE' }));
  });
});

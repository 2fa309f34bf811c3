import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { formatIssues } from '../../agent/config/format-issues.js';
import { ControlPlaneError } from '../errors.js';
import { configSchema, type ParsedConfig } from './schema.js';

export interface NotificationGroup {
  name: string;
  secret: string;
  webhooks: readonly string[];
}

export type AuthSettings = { kind: 'hs256'; secret: Uint8Array; issuer?: string; audience?: string; clockToleranceSeconds: number } | { kind: 'jwks'; url: string; issuer?: string; audience?: string; clockToleranceSeconds: number };

/** The validated, resolved (secrets read) and frozen configuration the control plane runs on. */
export interface ControlPlaneConfig {
  config_version: 1;
  log_level: ParsedConfig['log_level'];
  state_dir: string;
  listen: ParsedConfig['listen'];
  public_url: string | undefined;
  auth: AuthSettings;
  hub: ParsedConfig['hub'];
  scans: ParsedConfig['scans'];
  notification_groups: Readonly<Record<string, NotificationGroup>>;
  notifications: ParsedConfig['notifications'];
  source: string | undefined;
}

export interface LoadOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

const defaultStateDir = (env: NodeJS.ProcessEnv) => env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/cve-control-plane';

function invalid(source: string, lines: string[]): ControlPlaneError {
  return new ControlPlaneError('CP_ERR_CONFIG_INVALID', `invalid config ${source}:\n  ${lines.join('\n  ')}`);
}

function readSecret(key: string, value: Record<string, unknown>, dir: string, env: NodeJS.ProcessEnv, errors: string[], warnings: string[]): string {
  const file = value[`${key}_file`];
  if (typeof file === 'string') {
    const resolved = path.resolve(dir, file);
    try {
      if ((statSync(resolved).mode & 0o004) !== 0) warnings.push(`${key}_file: ${resolved} is readable by others; chmod 600 it`);
      return readFileSync(resolved, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      errors.push(`${key}_file: cannot read ${resolved} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return '';
    }
  }
  const envKey = value[`${key}_env`];
  if (typeof envKey === 'string') {
    const found = env[envKey];
    if (found === undefined || found === '') errors.push(`${key}_env: environment variable ${envKey} is not set`);
    return found ?? '';
  }
  return typeof value[key] === 'string' ? (value[key] as string) : '';
}

/** Validates a parsed YAML value; `file` names it in messages and anchors relative paths. */
export function buildConfig(raw: unknown, file: string | undefined, options: LoadOptions = {}): { config: ControlPlaneConfig; warnings: string[] } {
  const env = options.env ?? process.env;
  const source = file ?? '(no file)';
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw invalid(source, formatIssues(parsed.error.issues, raw));
  const value = parsed.data;
  const dir = file ? path.dirname(path.resolve(file)) : process.cwd();
  const errors: string[] = [];
  const warnings: string[] = [];

  const { jwks_url, issuer, audience, clock_tolerance_seconds } = value.auth;
  const common = { ...(issuer === undefined ? {} : { issuer }), ...(audience === undefined ? {} : { audience }), clockToleranceSeconds: clock_tolerance_seconds };
  let auth: AuthSettings;
  if (jwks_url !== undefined) {
    auth = { kind: 'jwks', url: jwks_url, ...common };
  } else {
    const authErrors: string[] = [];
    const secret = readSecret('hs256_secret', value.auth, dir, env, authErrors, warnings);
    errors.push(...authErrors.map((line) => `auth.${line}`));
    // HS256 with a short key is brute-forceable offline from any token: demand the hash's size.
    if (secret !== '' && Buffer.byteLength(secret) < 32) errors.push('auth.hs256_secret: expected at least 32 bytes (openssl rand -base64 48)');
    auth = { kind: 'hs256', secret: new TextEncoder().encode(secret), ...common };
  }
  const groups: Record<string, NotificationGroup> = {};
  for (const [name, group] of Object.entries(value.notification_groups)) {
    const groupErrors: string[] = [];
    const secret = readSecret('secret', group, dir, env, groupErrors, warnings);
    errors.push(...groupErrors.map((line) => `notification_groups.${name}.${line}`));
    groups[name] = { name, secret, webhooks: group.webhooks };
  }
  if (errors.length > 0) throw invalid(source, errors);

  const config: ControlPlaneConfig = {
    config_version: value.config_version,
    log_level: value.log_level,
    state_dir: path.resolve(dir, options.dataDir ?? value.state_dir ?? defaultStateDir(env)),
    listen: value.listen,
    public_url: value.public_url?.replace(/\/+$/, ''),
    auth,
    hub: value.hub,
    scans: value.scans,
    notification_groups: groups,
    notifications: value.notifications,
    source: file,
  };
  return { config: deepFreeze(config), warnings };
}

export function loadConfig(file: string, options: LoadOptions = {}): { config: ControlPlaneConfig; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ControlPlaneError('CP_ERR_CONFIG_UNREADABLE', `cannot read config ${file}: ${(error as Error).message}`, { cause: error });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw invalid(file, doc.errors.map((error) => `YAML syntax: ${error.message.split('\n')[0]}`));
  return buildConfig(doc.toJS(), file, options);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Uint8Array)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

import path from 'node:path';
import { deepFreeze, readYamlFile, resolveSecret, secretContext, secretSourceOf } from '../../shared/config/kit.js';
import { KernelError } from '../../shared/errors.js';
import { formatIssues } from '../../shared/zod-issues.js';
import { ControlPlaneError } from '../errors.js';
import { DATABASE_FILE } from '../store/sqlite/index.js';
import { configSchema, type ParsedConfig } from './schema.js';

export interface NotificationGroup {
  name: string;
  secret: string;
  webhooks: readonly string[];
}

export type AuthSettings =
  | { kind: 'hs256'; secret: Uint8Array; issuer?: string; audience?: string; clockToleranceSeconds: number }
  | { kind: 'jwks'; url: string; issuer?: string; audience?: string; clockToleranceSeconds: number };

/** Which engine holds the state: the SQLite file (path resolved), or PostgreSQL (URL read from its secret source). */
export type StoreSettings = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string; pool: { max: number } };

/** The feed hub's settings with the NVD API key resolved ('' when none). */
export interface FeedHubSettings {
  sources: NonNullable<ParsedConfig['feeds']>['sources'];
  max_delta_lines: number;
  nvd_api_key: string;
}

/** The validated, resolved (secrets read) and frozen configuration the control plane runs on. */
export interface ControlPlaneConfig {
  config_version: 1;
  log_level: ParsedConfig['log_level'];
  state_dir: string;
  listen: ParsedConfig['listen'];
  public_url: string | undefined;
  store: StoreSettings;
  rate_limit: ParsedConfig['rate_limit'];
  auth: AuthSettings;
  hub: ParsedConfig['hub'];
  scans: ParsedConfig['scans'];
  notification_groups: Readonly<Record<string, NotificationGroup>>;
  notifications: ParsedConfig['notifications'];
  console: ParsedConfig['console'];
  /** Undefined: this control plane runs no feed hub. */
  feeds: FeedHubSettings | undefined;
  source: string | undefined;
}

export interface LoadOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

const defaultStateDir = (env: NodeJS.ProcessEnv) => env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/cve-control-plane';

function invalid(source: string, lines: readonly string[]): ControlPlaneError {
  return new ControlPlaneError('CP_ERR_CONFIG_INVALID', `invalid config ${source}:\n  ${lines.join('\n  ')}`);
}

/** Validates a parsed YAML value; `file` names it in messages and anchors relative paths. */
export function buildConfig(raw: unknown, file: string | undefined, options: LoadOptions = {}): { config: ControlPlaneConfig; warnings: string[] } {
  const env = options.env ?? process.env;
  const source = file ?? '(no file)';
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw invalid(source, formatIssues(parsed.error.issues, raw));
  const value = parsed.data;
  const ctx = secretContext(file, env);
  const { dir, errors, warnings } = ctx;

  const { jwks_url, issuer, audience, clock_tolerance_seconds } = value.auth;
  const common = {
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
    clockToleranceSeconds: clock_tolerance_seconds,
  };
  let auth: AuthSettings;
  if (jwks_url !== undefined) {
    auth = { kind: 'jwks', url: jwks_url, ...common };
  } else {
    const secret = resolveSecret('auth.hs256_secret', secretSourceOf(value.auth, 'hs256_secret'), ctx, { required: 'an HS256 secret of at least 32 bytes' });
    // HS256 with a short key is brute-forceable offline from any token: demand the hash's size.
    if (secret !== '' && Buffer.byteLength(secret) < 32) errors.push('auth.hs256_secret: expected at least 32 bytes (openssl rand -base64 48)');
    auth = { kind: 'hs256', secret: new TextEncoder().encode(secret), ...common };
  }
  const groups: Record<string, NotificationGroup> = {};
  for (const [name, group] of Object.entries(value.notification_groups)) {
    const secret = resolveSecret(`notification_groups.${name}.secret`, secretSourceOf(group, 'secret'), ctx, { required: 'a signing secret' });
    groups[name] = { name, secret, webhooks: group.webhooks };
  }
  const feeds: FeedHubSettings | undefined =
    value.feeds === undefined
      ? undefined
      : {
          sources: value.feeds.sources,
          max_delta_lines: value.feeds.max_delta_lines,
          nvd_api_key: resolveSecret('feeds.sources.nvd.api_key', secretSourceOf(value.feeds.sources.nvd, 'api_key'), ctx),
        };
  const stateDir = path.resolve(dir, options.dataDir ?? value.state_dir ?? defaultStateDir(env));
  let store: StoreSettings;
  if (value.store.postgres !== undefined) {
    const url = resolveSecret('store.postgres.url', secretSourceOf(value.store.postgres, 'url'), ctx, { required: 'a postgres:// URL' });
    // The URL holds a password: the message names the key, never the value.
    if (url !== '' && !/^postgres(ql)?:\/\//.test(url)) errors.push('store.postgres.url: expected a postgres:// or postgresql:// URL');
    store = { engine: 'postgres', url, pool: { max: value.store.postgres.pool.max } };
  } else {
    const file = value.store.sqlite?.path;
    store = { engine: 'sqlite', path: file === undefined ? path.join(stateDir, DATABASE_FILE) : path.resolve(dir, file) };
  }
  if (errors.length > 0) throw invalid(source, errors);

  const config: ControlPlaneConfig = {
    config_version: value.config_version,
    log_level: value.log_level,
    state_dir: stateDir,
    listen: value.listen,
    public_url: value.public_url?.replace(/\/+$/, ''),
    store,
    rate_limit: value.rate_limit,
    auth,
    hub: value.hub,
    scans: value.scans,
    notification_groups: groups,
    notifications: value.notifications,
    console: value.console,
    feeds,
    source: file,
  };
  return { config: deepFreeze(config), warnings };
}

export function loadConfig(file: string, options: LoadOptions = {}): { config: ControlPlaneConfig; warnings: string[] } {
  let raw: unknown;
  try {
    raw = readYamlFile(file);
  } catch (error) {
    if (error instanceof KernelError && error.code === 'CONFIG_UNREADABLE')
      throw new ControlPlaneError('CP_ERR_CONFIG_UNREADABLE', error.message, { cause: error });
    if (error instanceof KernelError) throw invalid(file, error.details);
    throw error;
  }
  return buildConfig(raw, file, options);
}

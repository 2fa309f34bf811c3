import path from 'node:path';
import { KernelError } from '../../shared/errors.js';
import { deepFreeze, readYamlFile, resolveSecret, secretContext } from '../../shared/config/kit.js';
import { AgentError } from '../errors.js';
import { cidrSchema, configSchema, type ParsedConfig } from './schema.js';
import { formatIssues } from '../../shared/zod-issues.js';
import { parseLocalSchedules, type LocalSchedule } from './local-schedules.js';

export interface RouterSettings extends Omit<NonNullable<ParsedConfig['router']>, 'password' | 'password_file' | 'password_env'> {
  /** Resolved from the file, the environment or the config; '' when none is given (sent as such, never as "undefined"). */
  password: string;
}

export interface ControlPlaneSettings {
  url: string;
  token: string;
}

/** The validated, resolved and frozen configuration the agent runs on. */
export interface AgentConfig {
  config_version: 1;
  /** Absent when the site id is kept in the database (embedded defaults). */
  site_id: string | undefined;
  state_dir: string;
  log_level: ParsedConfig['log_level'];
  router: RouterSettings | undefined;
  subnets: readonly string[];
  control_plane: ControlPlaneSettings | undefined;
  scheduler: ParsedConfig['scheduler'];
  scan: ParsedConfig['scan'];
  feed: ParsedConfig['feed'];
  watch: ParsedConfig['watch'];
  schedules: readonly LocalSchedule[];
  /** The file it came from, or undefined for embedded defaults. */
  source: string | undefined;
}

export interface LoadedConfig {
  config: AgentConfig;
  /** Problems that do not stop the agent (e.g. a secret readable by others). */
  warnings: string[];
}

export interface LoadOptions {
  /** Overrides state_dir (the CLI's --data-dir), so a developer's agent never touches a production database. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

const defaultStateDir = (env: NodeJS.ProcessEnv) => env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/cve-agent';

function invalid(source: string, lines: readonly string[]): AgentError {
  return new AgentError('AGENT_ERR_CONFIG_INVALID', `invalid config ${source}:\n  ${lines.join('\n  ')}`, { details: lines });
}

/** Validates a parsed YAML value; `file` names it in messages and anchors relative paths. */
export function buildConfig(raw: unknown, file: string | undefined, options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const source = file ?? '(embedded defaults)';
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    // Report the schedules' problems in the same run, so one edit can fix everything.
    throw invalid(source, [...formatIssues(parsed.error.issues, raw), ...scheduleErrorsOfRaw(raw)]);
  }
  const value = parsed.data;

  const ctx = secretContext(file, env);
  const { errors, warnings } = ctx;

  let router: RouterSettings | undefined;
  if (value.router) {
    const { password, password_file, password_env, ...rest } = value.router;
    router = { ...rest, password: resolveSecret('router.password', { inline: password, file: password_file, env: password_env }, ctx) };
  }
  let controlPlane: ControlPlaneSettings | undefined;
  if (value.control_plane) {
    const { url, token, token_file, token_env } = value.control_plane;
    controlPlane = { url, token: resolveSecret('control_plane.token', { inline: token, file: token_file, env: token_env }, ctx, { required: 'a token' }) };
  }

  const schedules = parseLocalSchedules(value.schedules, { subnets: value.subnets, siteId: value.site_id, defaultTimezone: value.scheduler.timezone });
  errors.push(...schedules.errors);
  if (value.watch.enabled && value.router === undefined) errors.push("watch.enabled: true needs a router block (the watch follows the router's tables)");
  if (errors.length > 0) throw invalid(source, errors);

  const stateDir = options.dataDir ?? value.state_dir ?? defaultStateDir(env);
  const config: AgentConfig = {
    config_version: value.config_version,
    site_id: value.site_id,
    state_dir: path.resolve(ctx.dir, stateDir),
    log_level: value.log_level,
    router,
    subnets: value.subnets,
    control_plane: controlPlane,
    scheduler: value.scheduler,
    scan: value.scan,
    feed: value.feed,
    watch: value.watch,
    schedules: schedules.schedules,
    source: file,
  };
  return { config: deepFreeze(config), warnings };
}

/** Reads, parses and validates config.yaml; without a file, the embedded defaults. */
export function loadConfig(file: string | undefined, options: LoadOptions = {}): LoadedConfig {
  if (file === undefined) return buildConfig({}, undefined, options);
  let raw: unknown;
  try {
    raw = readYamlFile(file);
  } catch (error) {
    if (error instanceof KernelError && error.code === 'CONFIG_UNREADABLE')
      throw new AgentError('AGENT_ERR_CONFIG_UNREADABLE', error.message, { cause: error });
    if (error instanceof KernelError) throw invalid(file, error.details);
    throw error;
  }
  return buildConfig(raw, file, options);
}

function scheduleErrorsOfRaw(raw: unknown): string[] {
  const top = (raw ?? {}) as Record<string, unknown>;
  const entries = top.schedules;
  if (!Array.isArray(entries) || !entries.every((entry) => entry !== null && typeof entry === 'object')) return [];
  // Only the valid subnets: a bad one is already reported once under subnets.
  const subnets = Array.isArray(top.subnets) ? top.subnets.filter((subnet): subnet is string => cidrSchema.safeParse(subnet).success) : [];
  const siteId = typeof top.site_id === 'string' ? top.site_id : undefined;
  const timezone =
    typeof (top.scheduler as Record<string, unknown> | undefined)?.timezone === 'string' ? String((top.scheduler as Record<string, unknown>).timezone) : 'UTC';
  return parseLocalSchedules(entries as Record<string, unknown>[], { subnets, siteId, defaultTimezone: timezone }).errors;
}

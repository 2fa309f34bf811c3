/**
 * `cve-control-plane init`: the first config of a new control plane, with a fresh signing key,
 * readable by the service user alone, and the commands that come next.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parse, stringify } from 'yaml';
import { buildConfig } from '../control-plane/config/load.js';
import { ControlPlaneError } from '../control-plane/errors.js';

export const DEFAULT_CONFIG = '/etc/cve-control-plane/config.yaml';
export const SERVICE_USER = 'cve-control-plane';

export interface InitOptions {
  config: string;
  listen: { host: string; port: number };
  publicUrl?: string;
  force: boolean;
  /** Who owns the file when root runs init (default SERVICE_USER, the packages' system user). */
  user: string;
}

/** `--listen`: `host:port`, `[v6]:port`. */
export function listenAddress(value: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match?.[1] || port > 65535) throw new InvalidArgumentError('expected host:port, such as 127.0.0.1:8780, 0.0.0.0:8780 or [::1]:8780.');
  return { host: match[1], port };
}

/** A YAML scalar, quoted only when it must be. */
const scalar = (value: string) => stringify(value).trimEnd();

/** The config text: every value the control plane needs, the rest left to control-plane.example.yaml's defaults. */
function configText(options: InitOptions, secret: string, webhookSecret: string): string {
  const lines = [
    '# Written by `cve-control-plane init`. Every key is explained in control-plane.example.yaml',
    '# (/usr/share/doc/cve-control-plane/ in the package); the file holds the signing key: keep it 0600.',
    'config_version: 1',
    'log_level: info',
    '# state_dir: /var/lib/cve-control-plane   # the default ($STATE_DIRECTORY under systemd)',
    'listen:',
    `  host: ${scalar(options.listen.host)}`,
    `  port: ${options.listen.port}`,
    ...(options.publicUrl === undefined
      ? ['# public_url: https://cve.example.net   # how agents and operators reach this server; `sites add` prints it for the agents']
      : ['# How agents and operators reach this server; `sites add` gives the agents its ws:// or wss:// form.', `public_url: ${scalar(options.publicUrl)}`]),
    'store:',
    '  sqlite: {}',
    'auth:',
    '  # Signs and checks the API tokens (`tokens mint`, the console). A new one invalidates every token.',
    `  hs256_secret: ${scalar(secret)}`,
    "# A schedule names one of these groups; a finished scan is POSTed to each of the group's webhooks,",
    '# signed with its secret (X-Signature). Add your receivers to `default` (none yet: no one is told).',
    'notification_groups:',
    '  default:',
    `    secret: ${scalar(webhookSecret)}`,
    '    webhooks: []',
    '',
  ];
  return lines.join('\n');
}

/** A user's uid and gid, when this host has it. */
function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

export function initConfig(options: InitOptions, out: (text: string) => void): void {
  const file = path.resolve(options.config);
  if (!options.force && existsSync(file))
    throw new ControlPlaneError('CP_ERR_CONFIG_EXISTS', `${file} exists already; give --force to replace it (its signing key too: every token stops working)`);
  const text = configText(options, randomBytes(48).toString('base64'), randomBytes(32).toString('base64'));
  // What serve will load: a bad --listen host or --public-url is refused before anything is written.
  buildConfig(parse(text), file, { env: {} });

  const root = process.getuid?.() === 0;
  const owner = root ? lookUpUser(options.user) : undefined;
  const dir = path.dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    // The service must reach its config through the directory: root owns it, the service's group reads it.
    if (owner) chownSync(dir, 0, owner.gid);
  }
  // Written beside the target and renamed over it, so no reader ever sees half a file or a wider mode.
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  if (owner) chownSync(temporary, owner.uid, owner.gid);
  renameSync(temporary, file);

  // Root runs the commands as the service user, so the files they create in the state directory stay the service's.
  const cli = `${owner ? `runuser -u ${options.user} -- ` : ''}cve-control-plane --config ${file}`;
  const ownerNote = owner
    ? `, owner ${options.user}`
    : root
      ? `, owner root: this host has no user ${options.user}, so chown it before starting the service`
      : '';
  const host = isIPv6(options.listen.host) ? `[${options.listen.host}]` : options.listen.host;
  out(
    [
      `wrote ${file} (mode 0600${ownerNote}) with a new signing key; the control plane will listen on ${host}:${options.listen.port}`,
      'next:',
      '  start it:            systemctl enable --now cve-control-plane',
      `  register a site:     ${cli} sites add --org <org> --name <site name>`,
      "                       (prints the lines for that site agent's /etc/cve-agent/config.yaml)",
      `  mint an API token:   ${cli} tokens mint --org <org> --scopes "cve:view cve:create" --ttl 90d`,
      '',
    ].join('\n'),
  );
}

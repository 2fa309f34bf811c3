/**
 * Several control-plane nodes as real processes (the built CLI's `serve`) on one PostgreSQL
 * database, behind a real nginx configured with the file docs/deploy-cluster.md tells operators
 * to install (docs/deploy/nginx-cve-control-plane.conf), only its addresses changed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { controlPlaneCli } from './cli.js';
import { freePort } from './postgres.js';

export const NGINX_CONF = fileURLToPath(new URL('../../docs/deploy/nginx-cve-control-plane.conf', import.meta.url));

export interface NodeProcess {
  name: string;
  url: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  name: string;
  dir: string;
  host: string;
  databaseUrl: string;
  secret: string;
  logLevel?: string;
  /** More YAML lines for the config (indented as top-level keys). */
  extra?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Writes the node's config and starts `cve-control-plane serve`; resolves once it answers /readyz. */
export async function startNode(options: NodeOptions): Promise<NodeProcess> {
  const port = await freePort(options.host);
  const stateDir = path.join(options.dir, options.name);
  mkdirSync(stateDir, { recursive: true });
  const config = path.join(stateDir, 'control-plane.yaml');
  writeFileSync(
    config,
    [
      `state_dir: ${stateDir}`,
      `log_level: ${options.logLevel ?? 'info'}`,
      `listen: { host: ${options.host}, port: ${port}, trust_proxy: [${options.host}] }`,
      `auth: { hs256_secret: ${options.secret} }`,
      `store: { postgres: { url: '${options.databaseUrl}', pool: { max: 8 } } }`,
      ...(options.extra ?? []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child = spawn(process.execPath, [controlPlaneCli, '--config', config, 'serve'], {
    env: { ...process.env, NOTIFY_SOCKET: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://${options.host}:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`node ${options.name} exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) throw new Error(`node ${options.name} not ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: options.name,
    url,
    child,
    logs,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Balancer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * nginx in the foreground with the operators' site file included, its upstream servers and its
 * listen address replaced by the test's (everything else as shipped: timeouts, upgrade headers).
 */
export async function startNginx(options: { dir: string; host: string; upstreams: string[] }): Promise<Balancer> {
  const dir = path.join(options.dir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort(options.host);
  const site = readFileSync(NGINX_CONF, 'utf8')
    .replace(/^(\s*)server\s+[^;\s]+:\d+([^;]*);/gm, (_line, indent: string) =>
      options.upstreams.map((upstream) => `${indent}server ${upstream} max_fails=1 fail_timeout=2s;`).join('\n'),
    )
    .replace(/^(\s*)listen\s+[^;]+;/m, (_line, indent: string) => `${indent}listen ${options.host}:${port};`)
    .replace(/^\s*server_name\s+[^;]+;/m, '    server_name _;');
  writeFileSync(path.join(dir, 'site.conf'), site);
  const temp = (name: string) => `${name} ${path.join(dir, name)};`;
  const config = path.join(dir, 'nginx.conf');
  writeFileSync(
    config,
    `daemon off; worker_processes 1; pid ${path.join(dir, 'nginx.pid')}; error_log ${path.join(dir, 'error.log')} warn;
worker_rlimit_nofile 30000;
events { worker_connections 12000; }
http {
  access_log off; ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')} ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  include ${path.join(dir, 'site.conf')};
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-c', config, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://${options.host}:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr} ${readFileSafe(path.join(dir, 'error.log'))}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (attempt > 100) throw new Error(`nginx did not listen: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      await exited;
    },
  };
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

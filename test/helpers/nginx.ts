/**
 * A real nginx for the tests, running the shipped docs/deploy/nginx-cve-control-plane.conf with its
 * placeholders filled in: its own prefix, pid and temp directories in a temp dir, in the foreground,
 * on a loopback address only. Stopped (SIGQUIT, then SIGKILL) when the test finishes.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { freePort } from './postgres.js';
import { tempDir } from './temp.js';

export const NGINX_CONF = fileURLToPath(new URL('../../docs/deploy/nginx-cve-control-plane.conf', import.meta.url));

export interface Nginx {
  /** http://host:port of nginx. */
  url: string;
  /** The shipped file with the placeholders replaced, as nginx read it. */
  conf: string;
  errors(): string;
  stop(): Promise<void>;
}

/** `nodes`: each control plane's host:port (__NODE1__, __NODE2__, and one more server line per further node). */
export async function startNginx(options: { host: string; nodes: readonly string[] }): Promise<Nginx> {
  const dir = tempDir('nginx-');
  const port = await freePort(options.host);
  // __NODE2__'s server line is repeated for each node after the first (none with one node).
  // Only the directives: the header comment names the placeholders too.
  const lines = readFileSync(NGINX_CONF, 'utf8')
    .replace(/^(\s*listen )__LISTEN__/m, `$1${options.host}:${port}`)
    .replace(/^(\s*server )__NODE1__/m, `$1${options.nodes[0] ?? ''}`)
    .split('\n');
  const at = lines.findIndex((line) => line.trimStart().startsWith('server __NODE2__'));
  const template = lines[at] ?? '';
  lines.splice(at, 1, ...options.nodes.slice(1).map((node) => template.replace('__NODE2__', node)));
  const text = lines.join('\n');
  const conf = path.join(dir, 'cve-control-plane.conf');
  writeFileSync(conf, text);
  const main = path.join(dir, 'nginx.conf');
  writeFileSync(
    main,
    [
      'daemon off;',
      // As root nginx would switch its worker to nobody, who cannot write this temp dir.
      ...(userInfo().uid === 0 ? ['user root;'] : []),
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`),
      `  include ${conf};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('nginx', ['-p', dir, '-c', main, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  onTestFinished(stop);
  const errors = () => {
    let log = '';
    try {
      log = readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      // not written yet
    }
    return stderr + log;
  };
  const url = `http://${options.host}:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${errors()}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (attempt > 100) throw new Error(`nginx did not listen on ${url}: ${errors()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, conf: text, errors, stop };
}

import { spawn } from 'node:child_process';
import pino from 'pino';
import type { RouterSettings } from '../../../src/agent/config/load.js';
import { openOuiTable } from '../../../src/agent/routeros/oui-table.js';
import type { VendorLookup } from '../../../src/agent/routeros/mac.js';
import { createRouterSource, type RouterSourceDeps } from '../../../src/agent/routeros/router-source.js';
import { agentCli } from '../../helpers/cli.js';

export const silentLogger = pino({ level: 'silent' });

let registry: VendorLookup | undefined;
/** The real IEEE registry (the on-disk table), opened once per test file. */
export const vendors = (): VendorLookup => (registry ??= openOuiTable());

export function routerSettings(overrides: Partial<RouterSettings> & { port: number }): RouterSettings {
  return {
    host: '127.0.0.1',
    transport: 'api',
    user: 'admin',
    password: 'secret',
    tls: undefined,
    ssh_fallback: false,
    ssh_port: 22,
    timeout_seconds: 5,
    ...overrides,
  };
}

/** A source that tries once: fault tests want the fault's own error, not the offline summary. */
export function oneTrySource(settings: RouterSettings, deps: Partial<RouterSourceDeps> = {}) {
  return createRouterSource({ settings, logger: silentLogger, vendors: vendors(), retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, ...deps });
}

/** Resolves once `check` returns true, polling; for counts that settle a moment after a close. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

/** The real cve-agent in its own process; asynchronous so a simulator in the test's process can answer it. */
export function runAgentCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = agentCli;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

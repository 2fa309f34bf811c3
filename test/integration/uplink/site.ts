/**
 * One site wired to a real control plane over loopback: the RouterOS API simulator, banner
 * services of known-vulnerable versions on 127.0.<net>.x (each test file its own net, and none
 * the pipeline tests' 127.0.30.x, so suites can run at once), and a real agent (createAgent, temp state dir) whose uplink
 * dials the control plane, or whatever address the test puts in between.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { createAgent, type Agent } from '../../../src/agent/agent.js';
import { buildConfig } from '../../../src/agent/config/load.js';
import { createSdNotifier } from '../../../src/agent/sd-notify.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator, type RouterData } from '../../simulators/index.js';
import { macs, siteRouter } from '../pipeline/site-router.js';
import type { Harness } from '../control-plane/harness.js';
import type { Clock } from '../../../src/shared/clock.js';

export { macs };

/** The /24 of a test file: 127.0.<net>.0/24. */
export const subnetOf = (net: number) => `127.0.${net}.0/24`;

/** The pipeline tests' router, moved to 127.0.<net>.0/24. */
export function uplinkRouter(net: number): RouterData {
  return JSON.parse(JSON.stringify(siteRouter()).replaceAll('127.0.30.', `127.0.${net}.`)) as RouterData;
}

/** `ftpGate` holds the FTP greeting of 127.0.<net>.4 until it resolves: the scan cannot end before. */
export async function startServices(net: number, options: { ftpGate?: Promise<void> } = {}): Promise<{ routerPort: number }> {
  const router = await startApiSimulator({ data: uplinkRouter(net) });
  onTestFinished(() => router.stop());
  await startFakeService({ host: `127.0.${net}.2`, port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
  await startFakeService({ host: `127.0.${net}.3`, port: 8080, httpServer: 'nginx/1.13.2' });
  await startFakeService({
    host: `127.0.${net}.4`,
    port: 2121,
    greeting: `220 ProFTPD 1.3.5 Server (ProFTPD Default Installation) [127.0.${net}.4]\r\n`,
    gate: options.ftpGate,
  });
  return { routerPort: router.port };
}

export interface SiteAgent {
  agent: Agent;
  stateDir: string;
  messages: () => string[];
  /** Reads the agent's real SQLite file next to the running daemon (WAL lets a reader share it). */
  query<T>(sql: string, ...params: unknown[]): T[];
}

export async function startSiteAgent(options: {
  siteId: string;
  token: string;
  url: string;
  net: number;
  routerPort?: number;
  stateDir?: string;
  clock?: Clock;
}): Promise<SiteAgent> {
  const stateDir = options.stateDir ?? tempDir('uplink-agent-');
  const { config } = buildConfig(
    {
      site_id: options.siteId,
      subnets: [subnetOf(options.net)],
      ...(options.routerPort === undefined ? {} : { router: { host: '127.0.0.1', port: options.routerPort, user: 'edge-cve', password: 'router-secret' } }),
      scan: { ports: '2222,8080,2121', udp: false },
      control_plane: { url: options.url.replace(/^http/, 'ws'), token: options.token },
    },
    undefined,
    { env: {}, dataDir: stateDir },
  );
  const { logger, messages } = captureLogger('debug');
  const agent = createAgent({
    config,
    logger,
    clock: options.clock,
    notifier: createSdNotifier({ env: {}, logger }),
    tickSeconds: 1,
    uplink: { backoff: { initialMs: 50, maxMs: 400, factor: 2 }, window: 8, pollMs: 50 },
  });
  onTestFinished(async () => {
    await agent.stop();
  });
  await agent.start();
  return {
    agent,
    stateDir,
    messages,
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new Database(path.join(config.state_dir, 'agent.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
  };
}

/** Polls until `check` holds (real time: the parts run on their own), failing with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const scheduleBody = (siteId: string, net: number) => ({
  description: 'Uplink test: Sunday 02:30 Sydney',
  day_of_week: 0,
  time_of_day: '02:30',
  every_n_weeks: 2,
  timezone: 'Australia/Sydney',
  min_cvss: 4,
  warning_threshold: 7,
  ignore_offline_sites: false,
  sites: [{ id: siteId, subnet: subnetOf(net) }],
  notification_group: 'security-alerts',
});

export async function createSchedule(cp: Harness, siteId: string, net: number): Promise<string> {
  const created = await cp.request('POST', '/scans/cve/scheduled', { body: scheduleBody(siteId, net) });
  if (created.status !== 201) throw new Error(`schedule not created: ${created.status} ${created.text}`);
  return (created.body as { id: string }).id;
}

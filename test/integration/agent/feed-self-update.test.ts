import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { stringify } from 'yaml';
import { createAgent } from '../../../src/agent/agent.js';
import { buildConfig, loadConfig } from '../../../src/agent/config/load.js';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { readSourceRun } from '../../../src/cve/freshness.js';
import { createSdNotifier } from '../../../src/shared/sd-notify.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { realDebianLists, realKevJson, realUctSnapshotGz, startFeedServer, type FeedServer } from '../../simulators/feed-server.js';

const siteId = '5d0e8f1a-2b3c-4d5e-8f60-718293a4b5c6';
const ubuntuRoute = '/ubuntu/ubuntu-cve-tracker-master.tar.gz';

async function feedServer(): Promise<FeedServer> {
  const server = await startFeedServer('127.0.70.3');
  onTestFinished(() => server.close());
  const lists = realDebianLists();
  server.serve('/kev.json', realKevJson());
  server.serve('/debian/data/CVE/list', lists.cve);
  server.serve('/debian/data/DSA/list', lists.dsa);
  server.serve('/debian/data/DLA/list', lists.dla);
  server.serve(ubuntuRoute, realUctSnapshotGz());
  return server;
}

/** The feed section of a site whose sources all point at the fixture server (EPSS at a path it does not serve). */
const feedSection = (url: string) => ({
  self_update: true,
  catch_up_after: '0s',
  sources: {
    nvd: { enabled: false },
    routeros: { enabled: false },
    kev: { url: `${url}/kev.json` },
    epss: { url: `${url}/missing/epss-{date}.csv.gz` },
    debian: { url: `${url}/debian/data` },
    ubuntu: { url: `${url}${ubuntuRoute}` },
  },
});

function startAgent(raw: Record<string, unknown>, stateDir: string) {
  const { config } = buildConfig({ site_id: siteId, subnets: ['127.0.70.0/28'], ...raw }, undefined, { env: {}, dataDir: stateDir });
  const log = captureLogger('info');
  const agent = createAgent({ config, logger: log.logger, notifier: createSdNotifier({ env: {}, logger: log.logger }), dataDir: stateDir });
  onTestFinished(async () => {
    await agent.stop();
  });
  return { agent, log };
}

const count = (stateDir: string, sql: string): number => {
  const cveDb = openCveDatabase({ stateDir, logger: captureLogger().logger });
  try {
    return (cveDb.db.prepare(sql).get() as { n: number }).n;
  } finally {
    cveDb.close();
  }
};

const feedLines = (messages: string[]) => messages.filter((m) => m.startsWith('feed source '));

describe('a standalone agent updates its own CVE data', () => {
  it('only when its config says so: by default it fetches nothing and says how to turn it on', async () => {
    const server = await feedServer();
    const stateDir = path.join(tempDir('feed-default-'), 'state');
    const { self_update: _on, ...optOut } = feedSection(server.url);
    const { agent, log } = startAgent({ feed: optOut }, stateDir);
    await agent.start();
    expect(agent.feeds).toBeUndefined();
    expect(log.messages()).toContain('feed self-update off (feed.self_update: true turns it on): update cve.db with `cve-agent feed update` or `feed import`');
    expect(['/kev.json', '/debian/data/CVE/list', ubuntuRoute].map((route) => server.requests(route))).toEqual([0, 0, 0]);
  });

  it('runs every enabled source at start, one log line per run, and a failed one keeps what it had', async () => {
    const server = await feedServer();
    const stateDir = path.join(tempDir('feed-self-'), 'state');
    const { agent, log } = startAgent({ feed: feedSection(server.url) }, stateDir);
    await agent.start();
    expect(agent.feeds).toBeDefined();
    await vi.waitFor(() => expect(feedLines(log.messages())).toHaveLength(4), { timeout: 20_000, interval: 50 });

    const lines = feedLines(log.messages());
    const kevCount = (JSON.parse(realKevJson().toString('utf8')) as { count: number }).count;
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^feed source kev updated: ${kevCount} row\\(s\\) changed, data as of `)),
        expect.stringMatching(/^feed source debian updated: \d+ row\(s\) changed/),
        expect.stringMatching(/^feed source ubuntu updated: \d+ row\(s\) changed/),
        expect.stringMatching(/^feed source epss failed, the data it had stays in use; retried at its next slot \(45 3 \* \* \*\): .*HTTP 404/),
      ]),
    );
    expect(count(stateDir, 'SELECT count(*) AS n FROM kev')).toBe(kevCount);
    expect(count(stateDir, "SELECT count(*) AS n FROM distro_status WHERE distro = 'debian'")).toBeGreaterThan(150);
    expect(count(stateDir, "SELECT count(*) AS n FROM distro_status WHERE distro = 'ubuntu'")).toBeGreaterThan(1_000);
    expect(count(stateDir, 'SELECT count(*) AS n FROM epss')).toBe(0);
    await agent.stop();

    // Restarted within the sources' intervals: only the one that never succeeded is due again.
    const cveDb = openCveDatabase({ stateDir, logger: captureLogger().logger });
    expect(readSourceRun(cveDb.store, 'kev')).toMatchObject({ error: null, changed: kevCount });
    expect(readSourceRun(cveDb.store, 'epss')).toMatchObject({ last_ok_at: null, error: expect.stringMatching(/HTTP 404/) });
    cveDb.close();
    const again = startAgent({ feed: feedSection(server.url) }, stateDir);
    await again.agent.start();
    expect(again.log.messages().find((m) => m.startsWith('feed self-update on:'))).toMatch(/; due now: epss in 0 s$/);
  });

  it('an agent with a control plane never fetches on its own; without it (after a reload) it does', async () => {
    const server = await feedServer();
    const dir = tempDir('feed-cp-');
    const stateDir = path.join(dir, 'state');
    const file = path.join(dir, 'config.yaml');
    const write = (controlPlane: boolean) =>
      writeFileSync(
        file,
        stringify({
          site_id: siteId,
          subnets: ['127.0.70.0/28'],
          ...(controlPlane ? { control_plane: { url: 'ws://127.0.70.4:9/agent', token: 't0ken' } } : {}),
          feed: feedSection(server.url),
        }),
      );
    write(true);
    const { config } = loadConfig(file, { env: {}, dataDir: stateDir });
    const log = captureLogger('info');
    const agent = createAgent({ config, logger: log.logger, notifier: createSdNotifier({ env: {}, logger: log.logger }), dataDir: stateDir });
    onTestFinished(async () => {
      await agent.stop();
    });
    await agent.start();
    expect(agent.feeds).toBeUndefined();
    expect(log.messages()).toContain('feed self-update off: this agent has a control plane, which sends its feed updates');
    expect(['/kev.json', '/debian/data/CVE/list', ubuntuRoute].map((route) => server.requests(route))).toEqual([0, 0, 0]);

    write(false);
    expect(agent.reload()).toMatchObject({ applied: true });
    await vi.waitFor(() => expect(feedLines(log.messages())).toHaveLength(4), { timeout: 20_000, interval: 50 });
    expect(server.requests('/kev.json')).toBe(1);
  });
});

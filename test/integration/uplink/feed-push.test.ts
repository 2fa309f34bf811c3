/**
 * Feed versions flow from the control plane's feed hub to real agent processes: a real control
 * plane (its feed hub reading the real KEV catalog from the fixture feed server), real `cve-agent
 * run` processes, real SQLite files on both sides. Loopback 127.0.68.x only.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HOLD_DELTA_APPLY_ENV } from '../../../src/agent/uplink/feed-transfers.js';
import { runCli, startAgentProcess, type AgentProcess } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';
import { realKevJson, startFeedServer, type FeedServer } from '../../simulators/feed-server.js';
import { loadContract, startHarness, type Harness } from '../control-plane/harness.js';
import { eventually } from './site.js';

const host = '127.0.68.1';

interface Catalog {
  title: string;
  catalogVersion: string;
  dateReleased: string;
  count: number;
  vulnerabilities: { cveID: string }[];
}
const catalog = JSON.parse(realKevJson().toString('utf8')) as Catalog;

/** The real catalog cut to its first `n` entries, released on `day`: what CISA published then, in effect. */
function kevUpTo(n: number, day: string): string {
  const vulnerabilities = catalog.vulnerabilities.slice(0, n);
  return JSON.stringify({ ...catalog, dateReleased: `${day}T12:00:00.000Z`, count: vulnerabilities.length, vulnerabilities });
}

interface Lab {
  cp: Harness;
  feed: FeedServer;
  site: { id: string; token: string };
  stateDir: string;
  args: string[];
  queued: string[];
  /** Serves the next KEV catalog and runs the hub's KEV source once: a new feed version. */
  update(n: number, day: string): Promise<number>;
}

async function startLab(clock?: { now: () => Date }): Promise<Lab> {
  const feed = await startFeedServer(host);
  onTestFinished(() => feed.close());
  const cp = await startHarness({
    ...(clock ? { clock } : {}),
    config: {
      listen: { host, port: 0 },
      feeds: {
        sources: {
          // Run by the test, not by the clock: the schedule is once a year.
          kev: { url: `${feed.url}/kev.json`, schedule: '0 0 1 1 *' },
          nvd: { enabled: false },
          epss: { enabled: false },
          routeros: { enabled: false },
        },
      },
    },
  });
  onTestFinished(() => cp.stop());
  const site = await cp.addSite();
  const dir = tempDir('feed-push-');
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [`site_id: ${site.id}`, 'subnets: [127.0.68.0/24]', 'control_plane:', `  url: ${cp.url.replace(/^http/, 'ws')}`, `  token: ${site.token}`, ''].join('\n'),
    { mode: 0o600 },
  );
  const stateDir = path.join(dir, 'state');
  // Every feed file the pusher hands to the hub, noted on its way (the real hub still sends it).
  const queued: string[] = [];
  const hub = cp.cp.hub;
  const push = hub.pushFeedFile.bind(hub);
  hub.pushFeedFile = (siteIds, name, bytes) => {
    if (siteIds.includes(site.id)) queued.push(name);
    return push(siteIds, name, bytes);
  };
  return {
    queued,
    cp,
    feed,
    site,
    stateDir,
    args: ['run', '--config', config, '--data-dir', stateDir],
    async update(n, day) {
      feed.serve('/kev.json', kevUpTo(n, day));
      const made = await cp.cp.feeds!.hub.runSource('kev');
      if (!made) throw new Error('the KEV run made no feed version');
      return made.version;
    },
  };
}

/** What the agent's cve.db holds, read from the file (WAL lets a reader share it with the daemon). */
function agentCveDb(stateDir: string): { version: number; kev: number; integrity: string } {
  const db = new Database(path.join(stateDir, 'cve.db'));
  try {
    const version = db.prepare<[], { value: string }>("SELECT value FROM feed_meta WHERE key = 'feed_version'").get();
    return {
      version: version ? Number(version.value) : 0,
      kev: (db.prepare('SELECT count(*) AS n FROM kev').get() as { n: number }).n,
      integrity: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    };
  } finally {
    db.close();
  }
}

/** The feed files the control plane queued for the site, in order (acknowledged commands leave its table, so they are noted as they go). */
function transfers(lab: Lab): string[] {
  return lab.queued;
}

async function siteFeedVersion(lab: Lab): Promise<number | undefined> {
  return (await lab.cp.store.sites.feeds('org-a')).get(lab.site.id)?.version;
}

async function stopAgent(agent: AgentProcess): Promise<void> {
  agent.child.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
}

describe('the control plane pushes feed versions to its agents', () => {
  it('a new version on the hub reaches a connected agent: its cve.db holds the new rows and the API shows the site at that version', async () => {
    // The control plane's clock stands still, so the feed's age is a known number of days.
    const lab = await startLab({ now: () => new Date('2026-12-03T18:00:00.000Z') });
    const agent = startAgentProcess(lab.args);
    await agent.waitForLog('uplink connected');
    // The agent said it holds version 0: the control plane knows it before any version exists.
    expect(await eventually('the site to report version 0', async () => ((await siteFeedVersion(lab)) === 0 ? true : undefined))).toBe(true);

    const version = await lab.update(120, '2026-12-01');
    expect(version).toBe(1);
    const applied = await agent.waitForLog('applied a feed delta pushed by the control plane');
    expect(applied).toMatchObject({ from: 0, to: 1, feed_version: 1, rows: 120 });
    expect(agentCveDb(lab.stateDir)).toEqual({ version: 1, kev: 120, integrity: 'ok' });
    expect(await eventually('the site to report version 1', async () => ((await siteFeedVersion(lab)) === 1 ? true : undefined))).toBe(true);
    expect(transfers(lab)).toEqual(['feed-delta-0-1.jsonl.gz']);

    // The site resource shows the version its agent holds and how old that data is; the shapes are the documented ones.
    const contract = await loadContract(lab.cp.url);
    const one = await lab.cp.request('GET', `/sites/${lab.site.id}`);
    contract.check('GET', `/sites/${lab.site.id}`, one);
    expect(one.body).toMatchObject({
      id: lab.site.id,
      online: true,
      feed: { version: 1, data_as_of: { kev: '2026-12-01T12:00:00.000Z' }, age_days: 2, hub_version: 1 },
    });
    const list = await lab.cp.request('GET', '/sites');
    contract.check('GET', '/sites', list);
    // The list shows each site as the detail does, without the detail's router, neighbors, subnets and last scan.
    const { router, neighbors, subnets, last_scan, ...listed } = one.body as Record<string, unknown>;
    expect({ router, neighbors, subnets, last_scan }).toEqual({ router: null, neighbors: [], subnets: [], last_scan: null });
    expect(list.body).toEqual([listed]);
    const other = await lab.cp.request('GET', `/sites/${lab.site.id}`, { token: await lab.cp.jwt({ org: 'org-b' }) });
    expect(other.status).toBe(404);
    await stopAgent(agent);
    // And the site itself says which version it holds.
    const status = await runCli(['--data-dir', lab.stateDir, '--json', 'feed', 'status']);
    expect(JSON.parse(status.stdout)).toMatchObject({ feed: { version: 1, data_as_of: { kev: '2026-12-01T12:00:00.000Z' } } });
  });

  it('an agent offline across three hub updates gets exactly one catch-up delta on reconnect and ends at the newest version', async () => {
    const lab = await startLab();
    const first = startAgentProcess(lab.args);
    await first.waitForLog('uplink connected');
    await eventually('the site to report version 0', async () => ((await siteFeedVersion(lab)) === 0 ? true : undefined));
    await lab.update(100, '2026-11-01');
    await first.waitForLog('applied a feed delta pushed by the control plane');
    await eventually('the site to report version 1', async () => ((await siteFeedVersion(lab)) === 1 ? true : undefined));
    await stopAgent(first);

    // Three updates while the agent is away: nothing is queued for it.
    expect(await lab.update(150, '2026-11-08')).toBe(2);
    expect(await lab.update(200, '2026-11-15')).toBe(3);
    expect(await lab.update(180, '2026-11-22')).toBe(4);
    expect(transfers(lab)).toEqual(['feed-delta-0-1.jsonl.gz']);
    // The API says the site is behind: it holds 1, the hub is at 4.
    expect(((await lab.cp.request('GET', `/sites/${lab.site.id}`)).body as { feed: unknown }).feed).toMatchObject({ version: 1, hub_version: 4 });

    const second = startAgentProcess(lab.args);
    const applied = await second.waitForLog('applied a feed delta pushed by the control plane');
    expect(applied).toMatchObject({ from: 1, to: 4, feed_version: 4 });
    expect(agentCveDb(lab.stateDir)).toEqual({ version: 4, kev: 180, integrity: 'ok' });
    await eventually('the site to report version 4', async () => ((await siteFeedVersion(lab)) === 4 ? true : undefined));
    // Exactly one catch-up: the one transfer 1→4, and no other after it (heartbeats since brought none).
    expect(transfers(lab)).toEqual(['feed-delta-0-1.jsonl.gz', 'feed-delta-1-4.jsonl.gz']);
    expect(second.logs.filter((line) => line.msg === 'applied a feed delta pushed by the control plane')).toHaveLength(1);
    await stopAgent(second);
  });

  it('kill -9 mid-apply leaves cve.db at the previous version and intact; the next connection applies the same delta', async () => {
    const lab = await startLab();
    const first = startAgentProcess(lab.args);
    await first.waitForLog('uplink connected');
    await eventually('the site to report version 0', async () => ((await siteFeedVersion(lab)) === 0 ? true : undefined));
    await lab.update(100, '2026-11-01');
    await first.waitForLog('applied a feed delta pushed by the control plane');
    await eventually('the site to report version 1', async () => ((await siteFeedVersion(lab)) === 1 ? true : undefined));
    await stopAgent(first);

    // The documented test hook: the apply writes the marker inside its transaction, then waits there.
    const marker = path.join(tempDir('feed-hold-'), 'inside-apply');
    const held = startAgentProcess(lab.args, { [HOLD_DELTA_APPLY_ENV]: marker });
    await held.waitForLog('uplink connected');
    await eventually('the held agent to report version 1', async () => ((await siteFeedVersion(lab)) === 1 ? true : undefined));
    await lab.update(300, '2026-11-08');
    await eventually('the apply to be inside its transaction', () => (existsSync(marker) ? true : undefined));
    held.child.kill('SIGKILL');
    expect(await held.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(agentCveDb(lab.stateDir)).toEqual({ version: 1, kev: 100, integrity: 'ok' });

    const third = startAgentProcess(lab.args);
    const applied = await third.waitForLog('applied a feed delta pushed by the control plane');
    expect(applied).toMatchObject({ from: 1, to: 2, feed_version: 2 });
    expect(agentCveDb(lab.stateDir)).toEqual({ version: 2, kev: 300, integrity: 'ok' });
    // The same transfer finished from its spooled chunks: no second delta was built for it.
    expect(transfers(lab)).toEqual(['feed-delta-0-1.jsonl.gz', 'feed-delta-1-2.jsonl.gz']);
    await stopAgent(third);
  });
});

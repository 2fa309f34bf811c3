import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeedPusher, type FeedPushTarget } from '../../../src/control-plane/feeds/feed-push.js';
import { openFeedStore, type FeedStore } from '../../../src/control-plane/feeds/feed-store.js';
import { decodeDelta } from '../../../src/cve/delta.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

/** A KEV row written the way the KEV source writes it: the store's triggers record the change. */
function kevRun(store: FeedStore, ids: string[]): void {
  const put = store.db.prepare(
    "INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, '2026-11-01', NULL, 0, 'v', 'p', 'n')",
  );
  store.db.transaction(() => ids.forEach((id) => put.run(id)))();
  store.recordVersion(new Date());
}

/** The hub's side, recording what it was handed (the real hub stores and sends it). */
function target(online: string[]): FeedPushTarget & { pushed: { site: string; name: string; from: number; to: number }[] } {
  const pushed: { site: string; name: string; from: number; to: number }[] = [];
  return {
    pushed,
    onlineSites: () => online,
    pushFeedFile(siteIds, name, bytes) {
      const { header } = decodeDelta(bytes);
      for (const site of siteIds) pushed.push({ site, name, from: header.from, to: header.to });
      return Promise.resolve('00000000-0000-4000-8000-000000000000');
    },
  };
}

function setup(online: string[], maxDeltaLines?: number) {
  const store = openFeedStore({ file: path.join(tempDir(), 'feed.db'), logger: captureLogger().logger });
  let now = Date.parse('2026-12-01T00:00:00Z');
  const hub = target(online);
  const log = captureLogger();
  const pusher = new FeedPusher({
    store,
    hub,
    clock: { now: () => new Date(now) },
    logger: log.logger,
    retryAfterMs: 60_000,
    ...(maxDeltaLines ? { maxDeltaLines } : {}),
  });
  return { store, hub, pusher, log, advance: (ms: number) => (now += ms) };
}

const feed = (version: number) => ({ version, data_as_of: {} });

describe('feed pusher', () => {
  it('sends one delta per behind agent, none while it is on its way, and again when the agent cannot use it or it is overdue', async () => {
    const { store, hub, pusher, advance } = setup(['site-a', 'site-b']);
    // Nothing to send before the hub has a version; an agent that never reported gets nothing.
    await pusher.agentReported('site-a', feed(0));
    kevRun(store, ['CVE-2024-0001']);
    await pusher.newVersion();
    expect(hub.pushed).toEqual([{ site: 'site-a', name: 'feed-delta-0-1.jsonl.gz', from: 0, to: 1 }]);
    // Heartbeats still saying 0 while the delta travels bring no second one.
    await pusher.agentReported('site-a', feed(0));
    await pusher.agentReported('site-a', feed(0));
    expect(hub.pushed).toHaveLength(1);
    await pusher.agentReported('site-a', feed(1));
    // Two more versions: one delta from where the agent is, built once for both heartbeats.
    kevRun(store, ['CVE-2024-0002']);
    kevRun(store, ['CVE-2024-0003']);
    await pusher.agentReported('site-a', feed(1));
    await pusher.agentReported('site-a', feed(1));
    expect(hub.pushed.slice(1)).toEqual([{ site: 'site-a', name: 'feed-delta-1-3.jsonl.gz', from: 1, to: 3 }]);
    // The agent's cve.db was replaced (it reports 0): the delta from 1 cannot start there, a snapshot goes.
    await pusher.agentReported('site-a', feed(0));
    expect(hub.pushed.slice(2)).toEqual([{ site: 'site-a', name: 'feed-delta-0-3.jsonl.gz', from: 0, to: 3 }]);
    // Not reached after the retry window (the agent refused it): sent again.
    advance(61_000);
    await pusher.agentReported('site-a', feed(0));
    expect(hub.pushed.slice(3)).toEqual([{ site: 'site-a', name: 'feed-delta-0-3.jsonl.gz', from: 0, to: 3 }]);
    expect(hub.pushed.every((push) => push.site === 'site-a')).toBe(true);
  });

  it('on a new version, brings every connected agent that reported, each from its own version, one build per starting version', async () => {
    const { store, hub, pusher } = setup(['site-a', 'site-b', 'site-d']);
    const builds: number[] = [];
    const build = store.writeDelta.bind(store);
    store.writeDelta = (from, now) => {
      builds.push(from);
      return build(from, now);
    };
    kevRun(store, ['CVE-2024-0001']);
    await pusher.agentReported('site-a', feed(1));
    await pusher.agentReported('site-b', feed(0));
    await pusher.agentReported('site-c', feed(0));
    await pusher.agentReported('site-d', feed(1));
    kevRun(store, ['CVE-2024-0002']);
    await pusher.newVersion();
    // Reports come over connections: site-b and site-c get 0→1 at once. site-c has gone since; the new version waits for its next hello.
    expect(hub.pushed).toEqual([
      { site: 'site-b', name: 'feed-delta-0-1.jsonl.gz', from: 0, to: 1 },
      { site: 'site-c', name: 'feed-delta-0-1.jsonl.gz', from: 0, to: 1 },
      { site: 'site-a', name: 'feed-delta-1-2.jsonl.gz', from: 1, to: 2 },
      { site: 'site-b', name: 'feed-delta-0-2.jsonl.gz', from: 0, to: 2 },
      { site: 'site-d', name: 'feed-delta-1-2.jsonl.gz', from: 1, to: 2 },
    ]);
    expect(builds).toEqual([0, 1, 0]);
  });

  it('sends no delta larger than max_delta_lines (it is built in memory), says so once, and sends the smaller one a later version allows', async () => {
    const { store, hub, pusher, log } = setup(['site-a', 'site-b'], 3);
    kevRun(store, ['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003', 'CVE-2024-0004']);
    expect(store.deltaLines(0)).toBe(4);
    await pusher.agentReported('site-a', feed(0));
    await pusher.agentReported('site-a', feed(0));
    expect(hub.pushed).toEqual([]);
    expect(log.lines().filter((line) => String(line.msg).startsWith('feed delta larger than feeds.max_delta_lines'))).toEqual([
      expect.objectContaining({ site_id: 'site-a', from: 0, to: 1, lines: 4, max_delta_lines: 3 }),
    ]);
    // An agent at version 1 is 2 lines behind version 2: that one goes.
    kevRun(store, ['CVE-2024-0005', 'CVE-2024-0006']);
    expect(store.deltaLines(1)).toBe(2);
    await pusher.agentReported('site-b', feed(1));
    expect(hub.pushed).toEqual([{ site: 'site-b', name: 'feed-delta-1-2.jsonl.gz', from: 1, to: 2 }]);
  });
});

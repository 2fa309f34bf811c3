/**
 * The embedded store's ClusterSignals: a command wake-up goes out once its transaction committed
 * (with the rows readable), never for one that rolled back; small messages reach subscribers.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkSiteIds, parseSiteIds, SIGNAL_PAYLOAD_LIMIT } from '../../../src/control-plane/store/signals.js';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore, PendingCommand } from '../../../src/control-plane/store/types.js';
import { tempDir } from '../../helpers/temp.js';

const SITE = '0b0e7f8e-6c1a-4a57-9d55-3f4c1e0a9b21';
const OTHER = '7d4c6a55-12f0-4c7e-8f39-2b9a1c0d5e44';
const at = '2026-01-05T07:00:00.000Z';
const command = (type: string) => () => ({ type, body: { n: 1 }, expires_at: null });

let store: ControlPlaneStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function open(): Promise<ControlPlaneStore> {
  store = openSqliteStore({ stateDir: tempDir('signals-'), logger: pino({ level: 'silent' }), ingestThread: false });
  for (const id of [SITE, OTHER])
    await store.sites.create({ id, org_id: 'org-a', name: id, created_at: at, token_rotated_at: at, last_seen_at: null, agent_version: null, token_hash: id });
  return store;
}

describe('chunkSiteIds', () => {
  it('splits a long list into payloads under the bound, each id once', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(4, '0')}-0000-4000-8000-000000000000`);
    const chunks = chunkSiteIds([...ids, ...ids.slice(0, 10)]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(Buffer.byteLength(chunk)).toBeLessThan(SIGNAL_PAYLOAD_LIMIT);
    expect(chunks.flatMap(parseSiteIds)).toEqual(ids);
  });

  it('reads nothing from a payload that is not a list of ids', () => {
    expect(parseSiteIds('{"a":1}')).toEqual([]);
    expect(parseSiteIds('not json')).toEqual([]);
  });
});

describe('SQLite ClusterSignals', () => {
  it('wakes up after the commit, with the commands readable, once per transaction', async () => {
    const opened = await open();
    const heard: { siteIds: string[]; readable: Promise<PendingCommand[]> }[] = [];
    opened.signals.onCommands((siteIds) => heard.push({ siteIds, readable: opened.commands.pending(SITE, 0, at) }));
    await opened.commands.enqueue([
      { siteId: SITE, build: command('scan.stop') },
      { siteId: SITE, build: command('scan.stop') },
      { siteId: OTHER, build: command('scan.stop') },
    ]);
    expect(heard.map((h) => h.siteIds)).toEqual([[SITE, OTHER]]);
    expect((await (heard[0] as (typeof heard)[0]).readable).map((c) => c.seq)).toEqual([1, 2]);
  });

  it('says nothing for a transaction that rolled back', async () => {
    const opened = await open();
    const heard: string[][] = [];
    opened.signals.onCommands((siteIds) => heard.push(siteIds));
    const failing = () => {
      throw new Error('a frame its schema refuses');
    };
    await expect(
      opened.commands.enqueue([
        { siteId: SITE, build: command('scan.stop') },
        { siteId: OTHER, build: failing },
      ]),
    ).rejects.toThrow(/refuses/);
    expect(heard).toEqual([]);
    expect(await opened.commands.pending(SITE, 0, at)).toEqual([]);
    // The next committed write is heard alone, without the rolled-back one's sites.
    await opened.commands.enqueue([{ siteId: OTHER, build: command('scan.stop') }]);
    expect(heard).toEqual([[OTHER]]);
  });

  it('wakes up for every store write that carries commands', async () => {
    const opened = await open();
    const heard: string[][] = [];
    opened.signals.onCommands((siteIds) => heard.push(siteIds));
    const schedule = {
      id: 's1',
      org_id: 'org-a',
      description: 'd',
      day_of_week: 1,
      time_of_day: '02:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      ignore_offline_sites: false,
      notification_group: 'g',
      sites: [{ id: SITE, subnet: '10.0.0.0/24' }],
      anchor_at: at,
      next_scan_at: at,
      last_run_at: null,
      created_at: at,
      updated_at: at,
    };
    await opened.schedules.insert(schedule, [{ siteId: SITE, build: command('schedule.upsert') }]);
    await opened.schedules.replace(schedule, [{ siteId: OTHER, build: command('schedule.upsert') }]);
    await opened.schedules.delete('org-a', 's1', [{ siteId: SITE, build: command('schedule.delete') }]);
    // Gone already: nothing written, nothing said.
    expect(await opened.schedules.delete('org-a', 's1', [{ siteId: SITE, build: command('schedule.delete') }])).toBeUndefined();
    await opened.scans.create(
      {
        scan: {
          id: 'scan-1',
          org_id: 'org-a',
          schedule_id: null,
          slot_at: null,
          kind: 'invoke',
          label: 'l',
          min_cvss: 0,
          warning_threshold: 7,
          ignore_offline_sites: false,
          notification_group: null,
          created_at: at,
        },
        subScans: [{ id: 'sub-1', site_id: OTHER, subnets: ['10.0.0.0/24'], target_ips: null, status: 'pending', error: null }],
        events: [],
      },
      at,
      [{ siteId: OTHER, build: command('scan.invoke') }],
    );
    await opened.vulns.insertMark(
      {
        id: 'm1',
        org_id: 'org-a',
        mac_address: 'aa:bb:cc:dd:ee:ff',
        cve_id: 'CVE-2024-0001',
        status: 'accepted',
        justification: 'j',
        scan_id: null,
        product: null,
        version: null,
        cpe: null,
        expiration_date: null,
        created_by: 'u',
        updated_by: 'u',
        created_at: at,
        updated_at: at,
      },
      [{ siteId: SITE, build: command('cve.mark') }],
    );
    expect(heard).toEqual([[SITE], [OTHER], [SITE], [OTHER], [SITE]]);
  });

  it('reads the unsent commands of many sites at once: above each cursor, in seq order, without the expired', async () => {
    const opened = await open();
    const expiring = (expires_at: string | null) => () => ({ type: 'scan.stop', body: { n: 1 }, expires_at });
    await opened.commands.enqueue([
      { siteId: SITE, build: expiring(null) },
      { siteId: SITE, build: expiring('2026-01-05T06:00:00.000Z') },
      { siteId: SITE, build: expiring('2026-01-05T08:00:00.000Z') },
      { siteId: OTHER, build: expiring(null) },
    ]);
    const unsent = await opened.commands.unsent(
      [
        { siteId: SITE, afterSeq: 0 },
        { siteId: OTHER, afterSeq: 1 },
      ],
      at,
    );
    expect([...unsent].map(([site, commands]) => [site, commands.map((c) => c.seq)])).toEqual([[SITE, [1, 3]]]);
    expect(unsent.get(SITE)?.[0]?.body).toEqual({ n: 1 });
    // A read only: nothing was dropped.
    expect((await opened.commands.pending(SITE, 0, '2026-01-01T00:00:00.000Z')).map((c) => c.seq)).toEqual([1, 2, 3]);
  });

  it('passes small messages to every subscriber of the channel and refuses oversized ones', async () => {
    const opened = await open();
    const heard: string[] = [];
    const off = opened.signals.subscribe('cp_test', (payload) => heard.push(payload));
    opened.signals.subscribe('cp_other', () => heard.push('wrong channel'));
    await opened.signals.publish('cp_test', 'one');
    off();
    await opened.signals.publish('cp_test', 'two');
    expect(heard).toEqual(['one']);
    await expect(opened.signals.publish('cp_test', 'x'.repeat(SIGNAL_PAYLOAD_LIMIT))).rejects.toThrow(/limit/);
    await expect(opened.signals.publish('Bad-Channel', '')).rejects.toThrow(/channel/);
  });
});

import { describe, expect, it } from 'vitest';
import { sqliteConsole } from '../../../src/control-plane/store/sqlite/console.js';
import { pgConsole } from '../../../src/control-plane/store/postgres/console.js';
import type { ScanRow } from '../../../src/control-plane/store/types.js';
import { twoEngines } from './two-engines.js';
import { world } from './world.js';

async function engines() {
  const both = await twoEngines();
  await both.seed(world().seed);
  return { sqlite: sqliteConsole(both.sqlite), pg: pgConsole(both.pg) };
}

describe('ConsoleStore on PostgreSQL', () => {
  it("answers each device's current findings as SQLite does: newest finished scan per MAC, per site and address without one", async () => {
    const { sqlite, pg } = await engines();
    const all = await pg.currentFindings('o1');
    expect(all).toEqual(await sqlite.currentFindings('o1'));
    // AA's newest finished scan is sc2 (sc3 still scans); the MAC-less 10.0.0.2 is two devices, one per site.
    expect(all.map((f) => `${f.host.id} ${f.cve.id}`)).toEqual([
      'h4 CVE-2019-3976',
      'h5 CVE-2018-14847',
      'h2 CVE-2018-14847',
      'h2 CVE-2023-30799',
      'h3 CVE-2019-3976',
      'h8 CVE-2023-30799',
    ]);
    for (const filter of [{ mac: 'AA:00:00:00:00:01' }, { cveId: 'CVE-2019-3976' }, { mac: 'BB:00:00:00:00:02', cveId: 'CVE-2018-14847' }, { mac: 'none' }]) {
      expect(await pg.currentFindings('o1', filter)).toEqual(await sqlite.currentFindings('o1', filter));
    }
    expect(await pg.currentFindings('o2')).toEqual(await sqlite.currentFindings('o2'));
    expect(await pg.currentFindings('nobody')).toEqual([]);
  });

  it('answers the same facts (fix-first fields present only when known)', async () => {
    const { sqlite, pg } = await engines();
    const facts = await pg.currentFacts('o1');
    // SQLite answers them in its plan's order: the callers sort.
    expect(facts).toEqual((await sqlite.currentFacts('o1')).sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(facts).toHaveLength(6);
    expect(facts.find((f) => f.kev !== undefined && f.exposure !== undefined)).toMatchObject({ why: ['in KEV', 'exposed'], epss: { score: 0.97 } });
    expect(await pg.currentFacts('o2')).toEqual(await sqlite.currentFacts('o2'));
  });

  it('answers devices, hosts of a MAC, the last inventory and the last scan of a site as SQLite does', async () => {
    const { sqlite, pg } = await engines();
    const devices = await pg.devices('o1');
    expect(devices).toEqual(await sqlite.devices('o1'));
    // Every scan counts here, an unfinished one too: AA's newest row is sc3's.
    expect(devices.map((h) => h.id)).toEqual(['h6', 'h8', 'h5']);
    expect(devices[0]?.open_ports).toEqual([{ port: 22, protocol: 'tcp', service: 'ssh' }]);
    for (const [org, mac] of [
      ['o1', 'AA:00:00:00:00:01'],
      ['o2', 'AA:00:00:00:00:01'],
      ['o1', 'none'],
    ] as const) {
      expect(await pg.hostsOfMac(org, mac)).toEqual(await sqlite.hostsOfMac(org, mac));
    }
    expect((await pg.hostsOfMac('o1', 'AA:00:00:00:00:01')).map((h) => h.id)).toEqual(['h1', 'h2', 'h6']);
    for (const site of ['s1', 's2', 's9']) expect(await pg.latestInventory(site)).toEqual(await sqlite.latestInventory(site));
    expect(await pg.latestInventory('s1')).toMatchObject({ router: { identity: 'new' } });
    for (const [org, site] of [
      ['o1', 's1'],
      ['o1', 's2'],
      ['o2', 's1'],
      ['o2', 's3'],
    ] as const) {
      expect(await pg.lastScanOfSite(org, site)).toEqual(await sqlite.lastScanOfSite(org, site));
    }
    // s2 was skipped by sc2: its last scan is sc1.
    expect((await pg.lastScanOfSite('o1', 's2'))?.id).toBe('sc1');
    expect(await pg.lastScanOfSite('o1', 's1')).toMatchObject({ id: 'sc3', stop_requested: true, ignore_offline_sites: false });
  });

  it("answers the schedule's previous finished scan, a tie in the same millisecond broken by id", async () => {
    const { sqlite, pg } = await engines();
    const scan = (id: string, over: Partial<ScanRow> = {}) => ({ id, org_id: 'o1', schedule_id: 'sch1', ...over }) as ScanRow;
    const cases = [
      scan('sc3', { created_at: '2026-01-05T10:30:00.000Z' }),
      scan('sc2', { created_at: '2026-01-05T10:20:00.000Z' }),
      scan('sc2b', { created_at: '2026-01-05T10:20:00.000Z' }),
      scan('sc1', { created_at: '2026-01-05T10:01:00.000Z' }),
      scan('sc5', { schedule_id: null, created_at: '2026-01-05T10:22:00.000Z' }),
    ];
    for (const item of cases) expect(await pg.previousScan(item)).toEqual(await sqlite.previousScan(item));
    expect((await pg.previousScan(cases[0] as ScanRow))?.id).toBe('sc2b');
    expect((await pg.previousScan(cases[2] as ScanRow))?.id).toBe('sc2');
    expect((await pg.previousScan(cases[1] as ScanRow))?.id).toBe('sc1');
    expect(await pg.previousScan(cases[3] as ScanRow)).toBeUndefined();
  });
});

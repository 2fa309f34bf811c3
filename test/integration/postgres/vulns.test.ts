import { sqliteSignals } from '../../../src/control-plane/store/sqlite/signals.js';
import { describe, expect, it } from 'vitest';
import { sqliteVulns } from '../../../src/control-plane/store/sqlite/vulns.js';
import { pgVulns } from '../../../src/control-plane/store/postgres/vulns.js';
import type { CommandItem, CveMarkRow } from '../../../src/control-plane/store/types.js';
import { twoEngines } from './two-engines.js';
import { T, world } from './world.js';

async function engines() {
  const both = await twoEngines();
  await both.seed(world().seed);
  return {
    both,
    sqlite: sqliteVulns(
      both.sqlite,
      sqliteSignals(() => undefined),
    ),
    pg: pgVulns(both.pg),
  };
}

const AA = 'AA:00:00:00:00:01';
const BB = 'BB:00:00:00:00:02';

describe('VulnStore on PostgreSQL', () => {
  it('answers findings and occurrences by MAC, CVE records and latest findings as SQLite does', async () => {
    const { sqlite, pg } = await engines();
    for (const [org, macs] of [
      ['o1', [AA, BB]],
      ['o1', [AA]],
      ['o2', [AA, BB]],
      ['o1', []],
      ['o1', ['none']],
    ] as const) {
      expect(await pg.findingsByMacs(org, [...macs])).toEqual(await sqlite.findingsByMacs(org, [...macs]));
      expect(await pg.occurrences(org, [...macs])).toEqual(await sqlite.occurrences(org, [...macs]));
    }
    const found = await pg.findingsByMacs('o1', [AA, BB]);
    expect(found.map((f) => f.host.id)).toEqual(['h6', 'h2', 'h2', 'h5', 'h1', 'h1']);
    // A CVE without the organization's facts: no fixed versions known.
    expect(found.find((f) => f.cve.id === 'CVE-2023-30799')?.cve).toMatchObject({ fixed_versions: [], advice: null });
    for (const [org, cve] of [
      ['o1', 'CVE-2018-14847'],
      ['o1', 'CVE-2019-3976'],
      ['o2', 'CVE-2018-14847'],
      ['o2', 'CVE-2019-3976'],
      ['o1', 'CVE-2023-30799'],
    ] as const) {
      expect(await pg.cve(org, cve)).toEqual(await sqlite.cve(org, cve));
      expect(await pg.latestFinding(org, AA, cve)).toEqual(await sqlite.latestFinding(org, AA, cve));
    }
    expect(await pg.cve('o2', 'CVE-2018-14847')).toMatchObject({ fixed_versions: ['6.42.1', '7.1'], references: [expect.stringContaining('nvd')] });
    expect(await pg.cve('o2', 'CVE-2019-3976')).toBeUndefined();
    expect((await pg.latestFinding('o1', AA, 'CVE-2018-14847'))?.host.id).toBe('h6');
  });

  it('lists marks newest first, two of the same millisecond in the order they were made', async () => {
    const { sqlite, pg } = await engines();
    const filters = [{}, { mac_address: AA }, { cve_id: 'CVE-2018-14847', status: 'accepted' }, { mac_address: BB, status: 'accepted' }];
    for (const filter of filters) expect(await pg.listMarks('o1', filter)).toEqual(await sqlite.listMarks('o1', filter));
    expect((await pg.listMarks('o1', {})).map((mark) => mark.id)).toEqual(['m7', 'm1', 'm5', 'm9']);
    for (const macs of [[AA], [AA, BB], []]) expect(await pg.marksOf('o1', macs)).toEqual(await sqlite.marksOf('o1', macs));
    expect((await pg.marksOf('o2', [AA])).map((mark) => mark.id)).toEqual(['m8']);
  });

  it('stores a mark and its commands in one transaction, with the same seqs as SQLite, and neither when a command fails', async () => {
    const { both, sqlite, pg } = await engines();
    const mark = (id: string): CveMarkRow => ({
      id,
      org_id: 'o1',
      mac_address: BB,
      cve_id: 'CVE-2018-14847',
      status: 'accepted',
      justification: 'isolated',
      scan_id: 'sc1',
      product: 'routeros',
      version: '6.40.1',
      cpe: 'cpe:2.3:o:mikrotik:routeros:6.40.1:*:*:*:*:*:*:*',
      expiration_date: '2026-06-01',
      created_by: 'bob',
      updated_by: 'bob',
      created_at: T(40),
      updated_at: T(40),
    });
    const commands: CommandItem[] = ['s1', 's2', 's1'].map((siteId) => ({
      siteId,
      build: (seq) => ({ type: 'marks.update', body: { seq, mac: BB }, expires_at: null }),
    }));
    const written = await pg.insertMark(mark('m10'), commands);
    expect(written).toEqual(await sqlite.insertMark(mark('m10'), commands));
    expect(written.map((command) => command.seq)).toEqual([1, 1, 2]);
    expect(await pg.listMarks('o1', { mac_address: BB })).toEqual(await sqlite.listMarks('o1', { mac_address: BB }));
    expect((await pg.listMarks('o1', { mac_address: BB }))[0]?.id).toBe('m10');
    const stored = await both.pg.query('SELECT site_id, seq, type, body FROM commands ORDER BY site_id, seq');
    expect(stored).toEqual(both.sqlite.prepare('SELECT site_id, seq, type, body FROM commands ORDER BY site_id, seq').all());

    const failing: CommandItem[] = [{ siteId: 'gone', build: () => ({ type: 'marks.update', body: {}, expires_at: null }) }];
    await expect(pg.insertMark(mark('m11'), failing)).rejects.toThrow(/gone/);
    expect((await pg.listMarks('o1', {})).map((row) => row.id)).not.toContain('m11');
  });
});

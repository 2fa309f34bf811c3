/**
 * Several nodes on one PostgreSQL: a report two nodes ingest at once is stored once, a schedule
 * slot two nodes fire at once makes one scan (one set of sub-scans, events and commands), and the
 * counters of a scan whose sites report through both nodes at once lose nothing (the result equals
 * what SQLite holds after the same reports one by one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { finding, finished, host, macOf, scanStatus } from '../../simulators/control-plane/reports.js';
import type { IngestItem, IngestOutcome, NewScan } from '../../../src/control-plane/store/types.js';
import { migratedDb } from './pg-kit.js';
import { at, newId, ORG, pgCore, schedule, site, snapshot, sqliteCore, stream, type Core } from './core-kit.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const count = async (core: { db: { query: (sql: string, values?: unknown[]) => Promise<{ n: number }[]> } }, sql: string, values: unknown[] = []) =>
  (await core.db.query(`SELECT COUNT(*) AS n FROM ${sql}`, values))[0]?.n;

/** A scan the control plane started over these sites, each with its pending sub-scan. */
function invokeScan(sites: string[], scheduleId = newId()): { input: NewScan; subs: Map<string, string> } {
  const subs = new Map(sites.map((id) => [id, newId()]));
  return {
    subs,
    input: {
      scan: {
        id: newId(),
        org_id: ORG,
        schedule_id: scheduleId,
        slot_at: null,
        kind: 'invoke',
        label: 'invoke',
        min_cvss: 4,
        warning_threshold: 7,
        ignore_offline_sites: false,
        notification_group: 'security',
        created_at: at(1),
      },
      subScans: sites.map((id) => ({ id: subs.get(id) as string, site_id: id, subnets: ['10.0.0.0/24'], target_ips: null, status: 'pending', error: null })),
      events: [],
    },
  };
}

// Exact binary fractions: sums do not depend on the order the nodes add them in.
const cves = Array.from({ length: 12 }, (_, i) => ({ id: `CVE-2024-${String(1000 + i)}`, score: [9.5, 7.25, 5, 4.75, 6.5, 8][i % 6] as number }));

/** One site's run in the scan: its status, then `batches` batches of findings over shared CVEs in an order of its own, then its end. */
function siteRun(siteIndex: number, scanId: string, subId: string, batches: number, perBatch: number): IngestItem[][] {
  const siteId = `s-${siteIndex}`;
  const runId = newId();
  const out: IngestItem[][] = [];
  let seq = 1;
  const next = (reports: ReportInput[], second: number) => {
    out.push(stream(siteId, 'st', reports, second, seq));
    seq += reports.length;
  };
  next([scanStatus({ runId, scanId, subScanId: subId })], 2);
  let sent = 0;
  for (let b = 0; b < batches; b++) {
    const reports: ReportInput[] = [];
    for (let f = 0; f < perBatch; f++) {
      const hostNo = (b * perBatch + f) % 5;
      const ip = `10.0.${siteIndex}.${hostNo + 1}`;
      if (b === 0 && f < 5) reports.push(host(runId, ip, macOf(siteIndex * 100 + hostNo)));
      const cve = cves[(siteIndex * 7 + b * 5 + f * 3) % cves.length] as (typeof cves)[number];
      reports.push(finding(runId, ip, macOf(siteIndex * 100 + hostNo), cve.id, cve.score, `6.${b}.${f}`));
      sent++;
    }
    next(reports, 3);
  }
  next([finished(runId, sent, 'completed', 5)], 4);
  return out;
}

const applied = (outcomes: IngestOutcome[]) => outcomes.flatMap((o) => o.results).filter((r) => r.outcome === 'applied').length;

describe('PostgreSQL store on several nodes', () => {
  it('stores a report two nodes ingest at the same moment once', async () => {
    const { db, open } = await migratedDb();
    const nodes = [pgCore(db), pgCore(open())] as const;
    await nodes[0].sites.create(site('s-a'));
    for (let round = 0; round < 5; round++) {
      const { input, subs } = invokeScan(['s-a']);
      await nodes[0].scans.create(input, at(1));
      const runId = newId();
      const reports: ReportInput[] = [scanStatus({ runId, scanId: input.scan.id, subScanId: subs.get('s-a') as string }), host(runId, '10.0.0.1', macOf(1))];
      for (let i = 0; i < 40; i++) reports.push(finding(runId, '10.0.0.1', macOf(1), (cves[i % cves.length] as (typeof cves)[number]).id, 5, `1.${i}`));
      reports.push(finished(runId, 40));
      const items = stream('s-a', `stream-${round}`, reports, 2);
      const outcomes = await Promise.all(nodes.map((node) => node.ingest.ingest(items)));
      // One node applied every report, the other acknowledged every one as a duplicate.
      expect(applied(outcomes)).toBe(items.length);
      expect(outcomes.flatMap((o) => o.results).filter((r) => r.outcome === 'duplicate')).toHaveLength(items.length);
      expect(outcomes.flatMap((o) => o.finished_scans)).toEqual([input.scan.id]);
      expect(await count({ db }, 'findings WHERE scan_id = $1', [input.scan.id])).toBe(40);
      expect((await nodes[1].scans.get(ORG, input.scan.id))?.cve_count).toBe(40);
      expect((await nodes[1].scans.subScans(input.scan.id))[0]?.findings_received).toBe(40);
      expect(await nodes[1].ingest.streamSeq('s-a', `stream-${round}`)).toBe(items.length);
    }
  });

  it('fires a schedule slot once when two nodes race for it: one scan, one set of sub-scans, events and commands', async () => {
    const { db, open } = await migratedDb();
    const nodes = [pgCore(db), pgCore(open())] as const;
    for (const id of ['s-a', 's-b']) await nodes[0].sites.create(site(id));
    const scheduleId = newId();
    await nodes[0].schedules.insert(schedule(scheduleId, ['s-a', 's-b'], at(30)));
    const build = (seq: number) => ({ type: 'scan.invoke', body: { seq }, expires_at: null });
    for (let slotNo = 0; slotNo < 8; slotNo++) {
      const slot = new Date(Date.UTC(2026, 2, 1 + slotNo, 10)).toISOString();
      const attempt = () => {
        const { input } = invokeScan(['s-a', 's-b'], scheduleId);
        input.scan.kind = 'scheduled';
        input.scan.slot_at = slot;
        (input.subScans[1] as NewScan['subScans'][number]).status = 'failed';
        input.events = [{ site_id: 's-b', level: 'warning', message: 'site s-b: agent offline at start' }];
        return input;
      };
      const answers = await Promise.all(nodes.map((node) => node.scans.create(attempt(), at(31), [{ siteId: 's-a', build }])));
      expect(answers.filter((a) => a.created)).toHaveLength(1);
      expect(new Set(answers.map((a) => a.scan.id)).size).toBe(1);
      expect(answers.flatMap((a) => a.commands)).toHaveLength(1);
      const scanId = answers[0]?.scan.id;
      expect(await count({ db }, 'scans WHERE schedule_id = $1 AND slot_at = $2', [scheduleId, slot])).toBe(1);
      expect(await count({ db }, 'sub_scans WHERE scan_id = $1', [scanId])).toBe(2);
      expect(await count({ db }, 'scan_events WHERE scan_id = $1', [scanId])).toBe(1);
    }
    expect(await count({ db }, "commands WHERE site_id = 's-a'")).toBe(8);
    expect((await nodes[1].schedules.get(ORG, scheduleId))?.last_run_at).toBe(new Date(Date.UTC(2026, 2, 8, 10)).toISOString());
  });

  it("merges an agent's report of a slot into the scan another node records for that slot at the same moment", async () => {
    const { db, open } = await migratedDb();
    const nodes = [pgCore(db), pgCore(open())] as const;
    for (const id of ['s-a', 's-b']) await nodes[0].sites.create(site(id));
    const scheduleId = newId();
    await nodes[0].schedules.insert(schedule(scheduleId, ['s-a', 's-b'], at(30)));
    for (let slotNo = 0; slotNo < 8; slotNo++) {
      const slot = new Date(Date.UTC(2026, 2, 1 + slotNo, 10)).toISOString();
      const { input } = invokeScan(['s-a', 's-b'], scheduleId);
      const recorded = { ...input, scan: { ...input.scan, kind: 'scheduled' as const, slot_at: slot } };
      (recorded.subScans[1] as NewScan['subScans'][number]).status = 'failed';
      recorded.events = [{ site_id: 's-b', level: 'warning', message: 'site s-b: agent offline at start' }];
      const runId = newId();
      const reports = [scanStatus({ runId, scheduleId, slotAt: slot }), host(runId, '10.0.0.1', macOf(1)), finding(runId, '10.0.0.1', macOf(1))];
      // Even slots: the slot timer first; odd: the agent's report first (each waits for the other's row).
      const work = [() => nodes[0].scans.create(recorded, at(31)), () => nodes[1].ingest.ingest(stream('s-a', `st-${slotNo}`, reports, 32))];
      await Promise.all(slotNo % 2 === 0 ? work.map((w) => w()) : work.reverse().map((w) => w()));
      const scans = await db.query<{ id: string }>('SELECT id FROM scans WHERE schedule_id = $1 AND slot_at = $2', [scheduleId, slot]);
      expect(scans).toHaveLength(1);
      const subs = await nodes[1].scans.subScans(scans[0]?.id as string);
      expect(subs.map((s) => [s.site_id, s.run_id !== null, s.findings_received])).toEqual(
        expect.arrayContaining([
          ['s-a', true, 1],
          ['s-b', false, 0],
        ]),
      );
      expect(subs).toHaveLength(2);
      expect(await count({ db }, 'scan_events WHERE scan_id = $1', [scans[0]?.id])).toBe(1);
    }
  });

  it("loses no count when one scan's sites report through two nodes at once, and equals SQLite fed the same reports in turn", async () => {
    const { db, open } = await migratedDb();
    const nodes = [pgCore(db), pgCore(open())] as const;
    const lite = sqliteCore();
    closers.push(() => void lite.close());
    const siteIds = Array.from({ length: 8 }, (_, i) => `s-${i}`);
    const { input, subs } = invokeScan(siteIds);
    const runs = siteIds.map((id, i) => siteRun(i, input.scan.id, subs.get(id) as string, 6, 25));
    const stores: Core[] = [lite, nodes[0]];
    for (const store of stores) {
      for (const id of siteIds) await store.sites.create(site(id));
      await store.scans.create(input, at(1));
    }
    for (const batch of runs.flat()) await lite.ingest.ingest(batch);
    // Each site's batches in order (one agent stream), the sites at once, half of them through each node.
    const outcomes = await Promise.all(
      runs.map(async (batches, i) => {
        const node = nodes[i % 2] as Core;
        const out: IngestOutcome[] = [];
        for (const batch of batches) out.push(await node.ingest.ingest(batch));
        return out;
      }),
    );
    expect(outcomes.flat().flatMap((o) => o.finished_scans)).toEqual([input.scan.id]);
    expect(
      outcomes
        .flat()
        .flatMap((o) => o.results)
        .every((r) => r.outcome === 'applied'),
    ).toBe(true);
    const scan = await nodes[1].scans.get(ORG, input.scan.id);
    expect(scan?.cve_count).toBe(8 * 6 * 25);
    expect(await snapshot(nodes[1], input.scan.id)).toEqual(await snapshot(lite, input.scan.id));
  });

  it('finishes a scan once when one node times its sites out while another ingests their ends, without a deadlock', async () => {
    const { db, open } = await migratedDb();
    const nodes = [pgCore(db), pgCore(open())] as const;
    const siteIds = Array.from({ length: 6 }, (_, i) => `s-${i}`);
    for (const id of siteIds) await nodes[0].sites.create(site(id));
    for (let round = 0; round < 6; round++) {
      const { input, subs } = invokeScan(siteIds);
      await nodes[0].scans.create(input, at(1));
      // One batch over every site, as the hub's group commit makes them.
      const batch = siteIds.flatMap((id, i) => {
        const runId = newId();
        const reports = [
          scanStatus({ runId, scanId: input.scan.id, subScanId: subs.get(id) as string }),
          finding(runId, `10.0.${i}.1`, macOf(i)),
          finished(runId, 1),
        ];
        return stream(id, `st-${round}`, reports, 2);
      });
      const timedOut = [...siteIds].reverse().map((id) => ({ id: subs.get(id) as string, status: 'failed' as const, error: 'timed out' }));
      const [outcome, finishedByTimeout] = await Promise.all([
        nodes[1].ingest.ingest(batch),
        nodes[0].scans.changeSubScans(input.scan.id, timedOut, { level: 'warning', message: 'timed out' }, at(3)),
      ]);
      expect(outcome.results.every((r) => r.outcome === 'applied')).toBe(true);
      expect(outcome.finished_scans.length + (finishedByTimeout ? 1 : 0)).toBe(1);
      const scan = await nodes[1].scans.get(ORG, input.scan.id);
      expect(scan?.cve_count).toBe(6);
      expect(scan?.finished_at).not.toBeNull();
    }
  });

  it('quarantines a report the database refuses while the rest of its batch applies', async () => {
    const { db } = await migratedDb();
    const node = pgCore(db);
    await node.sites.create(site('s-a'));
    const { input, subs } = invokeScan(['s-a']);
    await node.scans.create(input, at(1));
    const runId = newId();
    // PostgreSQL text cannot hold NUL (SQLite can): the database refuses the report, not the protocol.
    const refused = { ...finding(runId, '10.0.0.1', macOf(1), 'CVE-2024-1000', 5), evidence: 'banner\u0000' } as ReportInput;
    const items = stream(
      's-a',
      'st',
      [
        scanStatus({ runId, scanId: input.scan.id, subScanId: subs.get('s-a') as string }),
        refused,
        finding(runId, '10.0.0.1', macOf(1), 'CVE-2024-1001', 6),
        finished(runId, 2),
      ],
      2,
    );
    const outcome = await node.ingest.ingest(items);
    expect(outcome.results.map((r) => r.outcome)).toEqual(['applied', 'rejected', 'applied', 'applied']);
    expect(await count({ db }, 'findings')).toBe(1);
    expect((await db.query<{ seq: number }>('SELECT seq FROM ingest_rejects')).map((r) => r.seq)).toEqual([2]);
    expect(await node.ingest.streamSeq('s-a', 'st')).toBe(4);
    expect((await node.scans.get(ORG, input.scan.id))?.cve_count).toBe(1);
    expect((await node.ingest.ingest(items)).results.every((r) => r.outcome === 'duplicate')).toBe(true);
  });
});

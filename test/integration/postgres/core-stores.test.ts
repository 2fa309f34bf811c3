/**
 * The PostgreSQL ingest and scan stores answer what the SQLite store answers for the same calls
 * and the same agent reports (a scan the control plane started, a local run, a slot an agent
 * started before the control plane recorded it, rejections, a replayed batch, a KEV alert).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { finding, finished, host, inventory, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import type { NewScan } from '../../../src/control-plane/store/types.js';
import { migratedDb } from './pg-kit.js';
import { at, blank, event, newId, ORG, pgCore, progress, schedule, site, snapshot, sqliteCore, stream, type Core } from './core-kit.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const mac = (n: number) => `4C:5E:0C:00:00:${String(n).padStart(2, '0')}`;
const kev = { date_added: '2026-01-02', due_date: null, ransomware: false };
const facts = (kevEntry: object | null): Partial<ReportInput> =>
  ({ kev: kevEntry, epss: null, exposure: { state: 'no', reasons: [] } }) as Partial<ReportInput>;
const patched = {
  distro: {
    distro: 'debian',
    release: 'bookworm',
    package: 'openssh-server',
    installed_version: '1:9.2p1-2',
    status: 'fixed',
    fixed_version: '1:9.2p1-2',
    ref: 'DSA-1',
    url: 'https://security-tracker.debian.org/tracker/CVE-2023-0001',
    reason: 'patched',
  },
};

/** The ids and reports of the script: made once, fed to both engines. */
function plan() {
  const ids = { scan1: newId(), subA: newId(), subB: newId(), scan3: newId(), subA3: newId(), sch: newId(), slotScan: newId(), r1: newRunId() };
  const ids2 = { r2: newRunId(), r3: newRunId(), r4: newRunId(), foreign: newRunId() };
  const slot = at(30);
  const r1 = ids.r1;
  const batch1 = stream(
    's-a',
    'st-a',
    [
      scanStatus({ runId: r1, scanId: ids.scan1, subScanId: ids.subA }),
      progress(r1, 10),
      host(r1, '192.168.88.10', mac(1)),
      host(r1, '192.168.88.9', mac(2), [22]),
      finding(r1, '192.168.88.10', mac(1), 'CVE-2018-14847', 9.1),
      { ...finding(r1, '192.168.88.10', mac(1), 'CVE-2019-3924', 7.5), ...facts(null) } as ReportInput,
      // No host report: the finding makes its host.
      finding(r1, '192.168.88.11', mac(3), 'CVE-2020-5000', 5.0),
      finding(r1, '192.168.88.9', mac(2), 'CVE-2018-14847', 9.1),
      { ...finding(r1, '192.168.88.9', mac(2), 'CVE-2023-0001', 8.1), ...patched } as ReportInput,
      event(r1, 'sweeping 192.168.88.0/24'),
      finding(ids2.foreign, '192.168.88.12', mac(4)),
      inventory(r1, { identity: 'gw', routeros_version: '6.40.5', board: 'hEX' }, [
        { mac: mac(2), ip: '192.168.88.9', identity: 'ap', platform: 'MikroTik', version: '6.40.5' },
      ]),
      progress(r1, 80),
      host(r1, '192.168.88.10', mac(1), [8291]),
      finished(r1, 6, 'completed', 3),
    ],
    1,
  );
  // A local run and a slot the agent fired before the control plane recorded it, from site B.
  const batch2 = [
    ...stream(
      's-b',
      'st-b',
      [scanStatus({ runId: ids2.r2 }), host(ids2.r2, '10.0.0.1', mac(5)), finding(ids2.r2, '10.0.0.1', mac(5), 'CVE-2021-0001', 6.4), finished(ids2.r2, 1)],
      2,
    ),
    ...stream(
      's-b',
      'st-b',
      [
        scanStatus({ runId: ids2.r3, scheduleId: ids.sch, slotAt: slot }),
        finding(ids2.r3, '10.0.0.2', null as unknown as string, 'CVE-2021-0002', 4.4),
        // A run of site A's stream sent by site B: refused.
        progress(r1, 50),
      ],
      3,
      5,
    ),
  ];
  // The same device's CVE, now in KEV: one alert.
  const batch3 = stream(
    's-a',
    'st-a',
    [
      scanStatus({ runId: ids2.r4, scanId: ids.scan3, subScanId: ids.subA3 }),
      { ...finding(ids2.r4, '192.168.88.10', mac(1), 'CVE-2019-3924', 7.5), ...facts(kev) } as ReportInput,
      finished(ids2.r4, 1),
    ],
    3,
    batch1.length + 1,
  );
  return { ids, ids2, slot, batch1, batch2, batch3 };
}

const newScan = (id: string, scheduleId: string, kind: NewScan['scan']['kind'], slot: string | null, subs: NewScan['subScans']): NewScan => ({
  scan: {
    id,
    org_id: ORG,
    schedule_id: scheduleId,
    slot_at: slot,
    kind,
    label: `label ${kind}`,
    min_cvss: 4,
    warning_threshold: 7,
    ignore_offline_sites: false,
    notification_group: 'security',
    created_at: at(1),
  },
  subScans: subs,
  events: subs
    .filter((s) => s.status === 'failed')
    .map((s) => ({ site_id: s.site_id, level: 'warning', message: `site ${s.site_id}: agent offline at start` })),
});

const sub = (id: string, siteId: string, status: 'pending' | 'failed') => ({
  id,
  site_id: siteId,
  subnets: ['192.168.88.0/24'],
  target_ips: null,
  status,
  error: status === 'failed' ? 'offline' : null,
});

/** One script of calls; what each answered, in order. */
async function script(store: Core, p: ReturnType<typeof plan>): Promise<unknown[]> {
  const { ids, slot } = p;
  const out: unknown[] = [];
  for (const id of ['s-a', 's-b']) await store.sites.create(site(id));
  await store.schedules.insert(schedule(ids.sch, ['s-a', 's-b'], slot));
  const build = (seq: number) => ({ type: 'scan.invoke', body: { seq }, expires_at: null });
  out.push(
    await store.scans.create(newScan(ids.scan1, ids.sch, 'invoke', null, [sub(ids.subA, 's-a', 'pending'), sub(ids.subB, 's-b', 'failed')]), at(1), [
      { siteId: 's-a', build },
    ]),
  );
  const first = await store.ingest.ingest(p.batch1);
  out.push(first);
  out.push(await snapshot(store, ids.scan1));
  // Replayed: acknowledged, nothing changes.
  out.push(await store.ingest.ingest(p.batch1), await snapshot(store, ids.scan1));
  out.push(await store.ingest.ingest(p.batch2));
  const scans = await store.scans.list(ORG);
  out.push(scans.map((s) => ({ ...s, id: s.id === ids.scan1 ? 'scan1' : s.kind })));
  const local = scans.find((s) => s.kind === 'local');
  const slotScan = await store.scans.latestOfSchedule(ORG, ids.sch);
  out.push(local && (await snapshot(store, local.id)), slotScan && (await snapshot(store, slotScan.id)));
  // The control plane records the slot the agent fired: the scan exists, only site A's part is added.
  const slotCreate = await store.scans.create(
    newScan(ids.slotScan, ids.sch, 'scheduled', slot, [sub(newId(), 's-a', 'failed'), sub(newId(), 's-b', 'pending')]),
    at(31),
    [{ siteId: 's-a', build }],
  );
  out.push(slotCreate, await store.schedules.get(ORG, ids.sch));
  out.push(slotScan && (await snapshot(store, slotScan.id)), await store.scans.activeOfSchedule(ids.sch));
  out.push(await store.scans.create(newScan(ids.scan3, ids.sch, 'invoke', null, [sub(ids.subA3, 's-a', 'pending')]), at(40)));
  out.push(await store.ingest.ingest(p.batch3), await snapshot(store, ids.scan3));
  if (slotScan) {
    const subs = await store.scans.subScans(slotScan.id);
    const b = subs.find((s) => s.site_id === 's-b');
    out.push(
      await store.scans.changeSubScans(
        slotScan.id,
        b ? [{ id: b.id, status: 'failed', error: 'timed out' }] : [],
        { level: 'warning', message: 'timed out' },
        at(50),
      ),
    );
    await store.scans.requestStop(slotScan.id, at(51));
    out.push(await snapshot(store, slotScan.id));
  }
  out.push(await store.scans.overdueSubScans(at(59)), await store.ingest.streamSeq('s-a', 'st-a'), await store.ingest.streamSeq('s-b', 'nope'));
  return out.map(blank);
}

describe('PostgreSQL ingest and scan stores', () => {
  it('answer what the SQLite store answers for the same calls and reports', async () => {
    const p = plan();
    const lite = sqliteCore();
    closers.push(() => void lite.close());
    const { db } = await migratedDb();
    const expected = await script(lite, p);
    const actual = await script(pgCore(db), p);
    if (process.env.DUMP) (await import('node:fs')).writeFileSync(process.env.DUMP, JSON.stringify({ expected, actual }, null, 1));
    for (const [i, answer] of expected.entries()) expect({ step: i, answer: actual[i] }).toEqual({ step: i, answer });
    // Quarantined: the foreign run's finding and site B's report of site A's run.
    const rejects = await db.query<{ site_id: string; seq: number; reason: string }>('SELECT site_id, seq, reason FROM ingest_rejects ORDER BY id');
    expect(rejects.map((r) => [r.site_id, r.seq])).toEqual([
      ['s-a', 11],
      ['s-b', 7],
    ]);
    const alerts = await db.query<{ kind: string }>('SELECT kind FROM finding_alerts');
    expect(alerts.map((a) => a.kind)).toEqual(['kev']);
    expect((await lite.notifications.pendingAlerts()).map((a) => a.kind)).toEqual(['kev']);
  });
});

/**
 * Alerts on change with two nodes on one PostgreSQL database (postgres/change-watch.ts): two runs
 * bringing the same change, judged by two nodes at once, move the state once and raise one alert;
 * the two nodes' notifiers then send it once, signed. The first node's transaction is held open
 * until the second is seen waiting on its lock, so the race is the worst interleaving every time.
 */
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type pg from 'pg';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { WebhookNotifier } from '../../../src/control-plane/notify/webhook-notifier.js';
import type { FinishedRun, RouterSeen } from '../../../src/control-plane/store/change-watch.js';
import { watchChanges } from '../../../src/control-plane/store/postgres/change-watch.js';
import type { PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { pgNotifications } from '../../../src/control-plane/store/postgres/notifications.js';
import { finding, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { startHookReceiver } from '../control-plane/alert-site.js';
import { migratedDb } from './pg-kit.js';
import { at, ORG, pgCore, schedule, site, stream } from './core-kit.js';

const SECRET = 'race-secret';
const ip = '192.168.88.2';
const mac = '4C:5E:0C:16:00:12';
const CVE = 'CVE-2018-14847';

/** Runs `first` on node A and holds its transaction open until node B's `second` waits on a lock; answers both results. */
async function race<T>(a: PgDb, b: PgDb, first: (client: pg.PoolClient) => Promise<T>, second: (client: pg.PoolClient) => Promise<T>): Promise<[T, T]> {
  let release = () => undefined as void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let done = (_: T) => undefined as void;
  const judged = new Promise<T>((resolve) => (done = resolve));
  const holder = a.tx(async (client) => {
    done(await first(client));
    await gate;
  });
  const ownResult = await judged;
  const other = b.tx(second);
  await expect
    .poll(
      async () =>
        (await a.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))[0]?.n,
      {
        timeout: 10_000,
        interval: 20,
      },
    )
    .toBe(1);
  release();
  await holder;
  return [ownResult, await other];
}

describe('change alerts with two nodes on PostgreSQL', () => {
  it('raises and delivers each change once when two nodes judge it at the same moment', async () => {
    const { db, open } = await migratedDb();
    const nodeB = open();
    const core = pgCore(db);
    await core.sites.create(site('s-a'));
    await core.schedules.insert(schedule('sch', ['s-a'], at(0)));

    // Four runs of the site, each on a stream of its own, their hosts and findings stored; their ends are judged below.
    const runs: FinishedRun[] = [];
    for (const [index, cves] of [[CVE], [CVE], [], []].entries()) {
      const runId = newRunId();
      const slotAt = new Date(Date.UTC(2026, 2, 2 + index, 1)).toISOString();
      await core.ingest.ingest(
        stream(
          's-a',
          `st${index}`,
          [scanStatus({ runId, scheduleId: 'sch', slotAt }), host(runId, ip, mac), ...cves.map((cve) => finding(runId, ip, mac, cve, 9.1))],
          1,
        ),
      );
      const [sub] = await db.query<{ id: string; scan_id: string }>('SELECT id, scan_id FROM sub_scans WHERE run_id = $1', [runId]);
      runs.push({
        org_id: ORG,
        site_id: 's-a',
        scan_id: sub!.scan_id,
        sub_scan_id: sub!.id,
        status: 'completed',
        coverage: undefined,
        complete: true,
        at: at(10 + index),
      });
    }
    const judge = (judged: ({ run: FinishedRun } | { router: RouterSeen })[]) => (client: pg.PoolClient) => watchChanges(client, judged);
    const router = (version: string, second: number): { router: RouterSeen } => ({
      router: { org_id: ORG, site_id: 's-a', scan_id: runs[0]!.scan_id, router: { identity: 'gw', routeros_version: version, board: null }, at: at(second) },
    });

    // The same new device and finding from two runs: device.new and finding.new once.
    expect(await race(db, nodeB, judge([{ run: runs[0]! }]), judge([{ run: runs[1]! }]))).toEqual([2, 0]);
    // Both later runs saw the device without the CVE: finding.closed once.
    expect(await race(db, nodeB, judge([{ run: runs[2]! }]), judge([{ run: runs[3]! }]))).toEqual([1, 0]);
    // The router's version: the first inventory is no change; the same upgrade told by two nodes: once.
    expect(await db.tx(judge([router('6.49.8', 20)]))).toBe(0);
    expect(await race(db, nodeB, judge([router('7.12', 21)]), judge([router('7.12', 22)]))).toEqual([1, 0]);

    const states = await db.query('SELECT device, cve_id, state, opened, closed_at FROM finding_states');
    expect(states).toEqual([{ device: mac, cve_id: CVE, state: 'closed', opened: 1, closed_at: at(12) }]);

    // Both nodes' notifiers at once: one delivery per change, signed with the group's secret.
    const receiver = await startHookReceiver('127.0.160.2');
    onTestFinished(() => receiver.close());
    const notifier = (node: PgDb) =>
      new WebhookNotifier({
        store: pgNotifications(node),
        groups: { security: { name: 'security', secret: SECRET, webhooks: [receiver.url] } },
        settings: { max_attempts: 3, backoff_initial_seconds: 1, backoff_max_seconds: 2, timeout_seconds: 5 },
        clock: { now: () => new Date() },
        logger: pino({ level: 'silent' }),
        baseUrl: () => 'http://control-plane.invalid',
      });
    const nodes = [notifier(db), notifier(nodeB)];
    for (const node of nodes) node.start();
    await Promise.all(nodes.map((node) => node.idle()));
    await expect.poll(async () => (await db.query(`SELECT id FROM deliveries WHERE status = 'delivered'`)).length, { timeout: 10_000 }).toBe(4);
    for (const node of nodes) await node.stop();
    for (const r of receiver.received) expect(verifySignature(r.body, SECRET, r.signature)).toBe(true);
    expect(receiver.received.map((r) => (JSON.parse(r.body) as { event: string }).event).sort()).toEqual([
      'device.new',
      'finding.closed',
      'finding.new',
      'router.version_changed',
    ]);
  });
});

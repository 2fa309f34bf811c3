import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../../../src/control-plane/notify/webhook-notifier.js';
import { sqliteNotifications } from '../../../src/control-plane/store/sqlite/notifications.js';
import { pgNotifications } from '../../../src/control-plane/store/postgres/notifications.js';
import type { DeliveryRow, NotificationStore } from '../../../src/control-plane/store/types.js';
import { twoEngines, type Row } from './two-engines.js';
import { coverage, T, world } from './world.js';

const HOST = '127.0.91.1';

const delivery = (id: string, scanId: string, due: string, over: Partial<DeliveryRow> = {}): DeliveryRow => ({
  id,
  scan_id: scanId,
  group_name: 'ops',
  url: `http://${HOST}:9/hook`,
  event: 'scan.completed',
  body: `{"event":"scan.completed","id":"${id}"}`,
  status: 'pending',
  attempts: 0,
  next_attempt_at: due,
  last_status: null,
  last_error: null,
  created_at: T(0),
  delivered_at: null,
  ...over,
});

/** The world, its scans' deliveries (some due, one later, one delivered) and alerts (one of a finding since deleted). */
async function engines() {
  const both = await twoEngines();
  const { seed, findings } = world();
  const [f1, f2] = findings as [Row, Row];
  const alert = (id: string, finding: Row, over: Row = {}): Row => ({
    id,
    org_id: 'o1',
    scan_id: finding.scan_id as string,
    finding_id: finding.id as string,
    kind: 'kev',
    state: 'pending',
    created_at: T(11),
    kev: null,
    ...over,
  });
  await both.seed({
    ...seed,
    deliveries: [
      delivery('d3', 'sc1', T(12)),
      delivery('d1', 'sc1', T(11), { attempts: 2, last_status: 503, last_error: 'HTTP 503' }),
      delivery('d2', 'sc1', T(13), { event: 'finding.kev' }),
      delivery('d4', 'sc4', T(50)),
      delivery('d5', 'sc1', T(10), { status: 'delivered', attempts: 1, last_status: 204, delivered_at: T(10) }),
    ] as unknown as Row[],
    finding_alerts: [
      alert('a2', f2, { kind: 'exposed' }),
      alert('a1', f1, { kev: '{"date_added":"2026-01-05","ransomware":true}' }),
      alert('a3', { ...f1, id: 'deleted' }, { created_at: T(12) }),
      alert('a4', f1, { state: 'queued' }),
    ],
  });
  return { both, sqlite: sqliteNotifications(both.sqlite), pg: pgNotifications(both.pg) };
}

let receiver: Server | undefined;
afterEach(async () => {
  receiver?.closeAllConnections();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

describe('NotificationStore on PostgreSQL', () => {
  it('answers what SQLite answers: scans awaiting, coverage, deliveries, the next due time, alerts', async () => {
    const { sqlite, pg } = await engines();
    const awaiting = await pg.awaiting();
    expect(awaiting).toEqual(await sqlite.awaiting());
    expect(awaiting.map((scan) => scan.id)).toEqual(['sc5', 'sc4', 'sc2']);
    expect(awaiting[0]).toMatchObject({ ignore_offline_sites: true, stop_requested: false });
    for (const scan of ['sc1', 'sc2', 'sc9']) expect(await pg.coverageOf(scan)).toEqual(await sqlite.coverageOf(scan));
    expect(await pg.coverageOf('sc1')).toEqual([
      { site_id: 's1', coverage: JSON.parse(coverage(12)) },
      { site_id: 's2', coverage: null },
    ]);
    expect(await pg.list()).toEqual(await sqlite.list());
    expect(await pg.list('sc4')).toEqual(await sqlite.list('sc4'));
    expect(await pg.nextDueAt()).toBe(await sqlite.nextDueAt());
    expect(await pg.nextDueAt()).toBe(T(11));

    const alerts = await pg.pendingAlerts();
    expect(alerts).toEqual(await sqlite.pendingAlerts());
    expect(alerts.map((alert) => alert.id)).toEqual(['a1', 'a2']);
    // A catalog-update alert tells the KEV entry it saw.
    expect(alerts[0]?.finding.kev).toEqual({ date_added: '2026-01-05', ransomware: true });
    // The alert of a deleted finding is set aside in both, not answered again.
    expect(await pg.pendingAlerts()).toEqual(await sqlite.pendingAlerts());
    expect(await pg.pendingAlerts()).toHaveLength(2);
  });

  it('answers the same due deliveries, records attempts the same way, and ends up with the same rows', async () => {
    const { sqlite, pg } = await engines();
    const due = await pg.due(T(12), 10);
    expect(due).toEqual(await sqlite.due(T(12), 10));
    expect(due.map((row) => row.id)).toEqual(['d1', 'd3']);
    for (const [store, clock] of [
      [sqlite, T(14)],
      [pg, T(14)],
    ] as const) {
      await store.recordAttempt('d1', { status: 'delivered', attempts: 3, next_attempt_at: T(11), last_status: 200, last_error: null, delivered_at: clock });
      await store.recordAttempt('d3', { status: 'pending', attempts: 1, next_attempt_at: T(20), last_status: 500, last_error: 'HTTP 500', delivered_at: null });
      await store.recordAttempt('d2', { status: 'failed', attempts: 1, next_attempt_at: T(13), last_status: 404, last_error: 'HTTP 404', delivered_at: null });
    }
    expect(await pg.list()).toEqual(await sqlite.list());
    expect(await pg.nextDueAt()).toBe(await sqlite.nextDueAt());
  });

  it('queues a scan or an alert once: a second queue, from another node, stores nothing', async () => {
    const { both, sqlite, pg } = await engines();
    const other = pgNotifications(both.node());
    const first = [delivery('q1', 'sc2', T(30)), delivery('q2', 'sc2', T(30))];
    for (const store of [sqlite, pg]) await store.queue('sc2', first);
    for (const store of [sqlite, other]) await store.queue('sc2', [delivery('q3', 'sc2', T(31))]);
    expect(await pg.list('sc2')).toEqual(await sqlite.list('sc2'));
    expect((await pg.list('sc2')).map((row) => row.id)).toEqual(['q1', 'q2']);
    expect((await pg.awaiting()).map((scan) => scan.id)).toEqual(['sc5', 'sc4']);

    for (const store of [sqlite, pg]) await store.queueAlert('a1', [delivery('k1', 'sc1', T(30), { event: 'finding.kev' })]);
    for (const store of [sqlite, other]) await store.queueAlert('a1', [delivery('k2', 'sc1', T(30), { event: 'finding.kev' })]);
    expect(await pg.list('sc1')).toEqual(await sqlite.list('sc1'));
    expect((await pg.list('sc1')).map((row) => row.id)).toContain('k1');
    expect((await pg.list('sc1')).map((row) => row.id)).not.toContain('k2');
    expect((await pg.pendingAlerts()).map((alert) => alert.id)).toEqual(['a2']);
  });

  it('two nodes queueing the same scans at once store one set of deliveries per scan', async () => {
    const { both } = await engines();
    const nodes = [pgNotifications(both.pg), pgNotifications(both.node()), pgNotifications(both.node())];
    const scans = ['sc2', 'sc4', 'sc5'];
    await Promise.all(
      nodes.flatMap((node, n) => scans.map((scan) => node.queue(scan, [delivery(`${scan}-n${n}-a`, scan, T(30)), delivery(`${scan}-n${n}-b`, scan, T(30))]))),
    );
    for (const scan of scans) {
      const ids = (await nodes[0]!.list(scan)).map((row) => row.id).filter((id) => id.startsWith(scan));
      expect(ids).toHaveLength(2);
      // Both of one node's set, none of another's.
      expect(new Set(ids.map((id) => id.slice(0, -2))).size).toBe(1);
    }
    expect(await nodes[0]!.awaiting()).toEqual([]);
  });

  it('two nodes claiming due deliveries at once never get the same one, and between them get them all', async () => {
    const { both } = await engines();
    const many = Array.from({ length: 60 }, (_, i) => delivery(`m${String(i).padStart(2, '0')}`, 'sc2', T(i % 7)));
    await both.seed({ deliveries: many as unknown as Row[] });
    const nodes = [pgNotifications(both.pg), pgNotifications(both.node())];
    const claimed = await Promise.all(
      nodes.map(async (node) => {
        const mine: string[] = [];
        for (let round = 0; round < 40; round++) {
          const batch = await node.due(T(59), 4);
          if (batch.length === 0) break;
          mine.push(...batch.map((row) => row.id));
        }
        return mine;
      }),
    );
    const all = claimed.flat();
    expect(new Set(all).size).toBe(all.length);
    // Every pending delivery (d1 to d4 and the 60), none of the delivered one.
    expect(all.sort()).toEqual(['d1', 'd2', 'd3', 'd4', ...many.map((row) => row.id)].sort());
  });

  it('a claimed delivery whose attempt is not recorded within its lease is due again, to any node', async () => {
    const { both, pg } = await engines();
    const other = pgNotifications(both.node());
    const lease = 60_000;
    const first = await pg.due(T(11), 1, lease);
    expect(first.map((row) => row.id)).toEqual(['d1']);
    // Answered as it was due; the row itself is held until the lease ends.
    expect(first[0]?.next_attempt_at).toBe(T(11));
    expect((await pg.list('sc1')).find((row) => row.id === 'd1')?.next_attempt_at).toBe(T(12));
    expect(await other.due(T(11), 10, lease)).toEqual([]);
    expect(await other.due('2026-01-05T10:11:59.999Z', 10, lease)).toEqual([]);
    // The node died: after the lease the other node takes it (and d3, due since).
    expect((await other.due(T(12), 10, lease)).map((row) => row.id)).toEqual(['d1', 'd3']);
  });

  it('a node whose lease ran out does not undo what another node recorded since', async () => {
    const { both, pg } = await engines();
    const other = pgNotifications(both.node());
    await pg.due(T(11), 1, 1000);
    const [again] = await other.due('2026-01-05T10:11:01.000Z', 1, 1000);
    expect(again?.id).toBe('d1');
    await other.recordAttempt('d1', { status: 'delivered', attempts: 3, next_attempt_at: T(11), last_status: 204, last_error: null, delivered_at: T(12) });
    await pg.recordAttempt('d1', { status: 'pending', attempts: 3, next_attempt_at: T(20), last_status: null, last_error: 'timeout', delivered_at: null });
    expect((await pg.list('sc1')).find((row) => row.id === 'd1')).toMatchObject({ status: 'delivered', last_status: 204 });
  });

  it('raises the alerts of a KEV catalog update SQLite raises, once even when two nodes apply it at once', async () => {
    const watch = (device: string, cve: string, kev: boolean): Row => ({ org_id: 'o1', device, cve_id: cve, kev, exposed: false, updated_at: T(1) });
    const states = {
      finding_watch: [
        watch('AA:00:00:00:00:01', 'CVE-2023-30799', false), // open: alerts, from sc2's finding
        watch('AA:00:00:00:00:01', 'CVE-2018-14847', true), // in KEV already
        watch('BB:00:00:00:00:02', 'CVE-2018-14847', false), // under a mitigated mark: not open
        watch('s1 10.0.0.2', 'CVE-2019-3976', false), // a device without a MAC: open, alerts
        watch('s2 10.0.0.2', 'CVE-2019-3976', false), // patched by its distribution: not open
      ],
    };
    const catalog = new Map(
      ['CVE-2023-30799', 'CVE-2018-14847', 'CVE-2019-3976'].map((cve) => [cve, { date_added: '2026-01-05', due_date: null, ransomware: false }]),
    );
    const alertsOf = async (store: NotificationStore) =>
      (await store.pendingAlerts()).map(({ id: _id, ...alert }) => alert).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

    const { both, sqlite, pg } = await engines();
    await both.seed(states);
    // Settle the seeded alerts first: only the update's are compared.
    for (const store of [sqlite, pg]) for (const alert of await store.pendingAlerts()) await store.queueAlert(alert.id, []);
    expect(await pg.kevCatalogUpdated(catalog, T(40))).toBe(await sqlite.kevCatalogUpdated(catalog, T(40)));
    const raised = await alertsOf(pg);
    expect(raised).toEqual(await alertsOf(sqlite));
    expect(raised.map((alert) => `${alert.finding.host.id} ${alert.finding.cve.id} ${alert.kind}`).sort()).toEqual([
      'h2 CVE-2023-30799 kev',
      'h3 CVE-2019-3976 kev',
    ]);
    expect(raised[0]?.finding.kev).toEqual({ date_added: '2026-01-05', due_date: null, ransomware: false });
    expect(await pg.kevCatalogUpdated(catalog, T(41))).toBe(0);

    const again = await engines();
    await again.both.seed(states);
    const nodes = [again.pg, pgNotifications(again.both.node()), pgNotifications(again.both.node())];
    const counts = await Promise.all(nodes.map((node) => node.kevCatalogUpdated(catalog, T(40))));
    expect(counts.reduce((a, b) => a + b)).toBe(2);
  });

  it('a node stopping mid-attempt hands the delivery back at once, as it was due, for another node', async () => {
    const { both } = await engines();
    let held = 0;
    receiver = createServer(() => held++); // never answers
    await new Promise<void>((resolve) => receiver?.listen(0, HOST, resolve));
    const url = `http://${HOST}:${(receiver.address() as { port: number }).port}/held`;
    await both.pg.query("UPDATE scans SET notify_state = 'none'");
    await both.pg.query("UPDATE finding_alerts SET state = 'queued'");
    await both.pg.query("UPDATE deliveries SET status = 'failed' WHERE status = 'pending'");
    await both.seed({ deliveries: [delivery('held', 'sc1', T(11), { url, attempts: 1, last_status: 503, last_error: 'HTTP 503' })] as unknown as Row[] });
    const node = new WebhookNotifier({
      store: pgNotifications(both.node()),
      groups: { ops: { name: 'ops', secret: 's', webhooks: [url] } },
      settings: { max_attempts: 3, backoff_initial_seconds: 1, backoff_max_seconds: 2, timeout_seconds: 60 },
      clock: { now: () => new Date() },
      logger: pino({ level: 'silent' }),
      baseUrl: () => 'http://control-plane.invalid',
    });
    node.start();
    await expect.poll(() => held, { timeout: 10_000 }).toBe(1);
    await node.stop();
    const [row] = (await pgNotifications(both.pg).list('sc1')).filter((item) => item.id === 'held');
    expect(row).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: T(11), last_status: 503, last_error: 'HTTP 503' });
    expect((await pgNotifications(both.pg).due(new Date().toISOString(), 10)).map((item) => item.id)).toEqual(['held']);
  });

  it('two notifiers on two nodes deliver every webhook of every finished scan once', async () => {
    const { both } = await engines();
    const received: string[] = [];
    receiver = createServer((request, response) => {
      received.push(`${request.url} ${String(request.headers['x-delivery-id'])}`);
      request.resume();
      request.on('end', () => {
        response.statusCode = 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, HOST, resolve));
    const base = `http://${HOST}:${(receiver.address() as { port: number }).port}`;
    // Only the deliveries the notifiers queue: the seeded ones would go nowhere.
    await both.pg.query("UPDATE deliveries SET status = 'failed' WHERE status = 'pending'");
    const seeded = new Set((await pgNotifications(both.pg).list()).map((row) => row.id));
    const notifier = (db = both.node()) =>
      new WebhookNotifier({
        store: pgNotifications(db),
        groups: { ops: { name: 'ops', secret: 's', webhooks: [`${base}/a`, `${base}/b`, `${base}/c`] } },
        settings: { max_attempts: 3, backoff_initial_seconds: 1, backoff_max_seconds: 2, timeout_seconds: 5 },
        clock: { now: () => new Date() },
        logger: pino({ level: 'silent' }),
        baseUrl: () => 'http://control-plane.invalid',
      });
    const nodes = [notifier(both.pg), notifier()];
    for (const node of nodes) node.start();
    await Promise.all(nodes.map((node) => node.idle()));
    for (const node of nodes) await node.stop();

    const stored = (await pgNotifications(both.pg).list()).filter((row) => !seeded.has(row.id));
    // sc2, sc4 and sc5 awaited and the alerts a1 and a2 pending, three webhooks each: fifteen deliveries, each delivered and received once.
    expect(stored).toHaveLength(15);
    expect(stored.every((row) => row.status === 'delivered' && row.attempts === 1)).toBe(true);
    expect(received.sort()).toEqual(stored.map((row) => `${new URL(row.url).pathname} ${row.id}`).sort());
  });
});

/**
 * Webhook deliveries on PostgreSQL, shared by every node: `queue`/`queueAlert` flip the scan's or
 * alert's state with a conditional UPDATE first, so two nodes queueing the same scan store one set
 * of deliveries; `due` claims the rows it answers (FOR UPDATE SKIP LOCKED, next_attempt_at moved
 * past a lease), so two nodes never attempt the same delivery at once, and a delivery whose node
 * died before recording its attempt is due again once the lease has run out.
 */
import type { DeliveryRow, FindingAlert, NotificationStore } from '../types.js';
import { fromJson } from '../json.js';
import { changeAlertOf, findingViewSelect, hydrateFinding, hydrateScan, type RawChange, type RawFindingView, type RawScan } from '../rows.js';
import type { PgDb, Queryable } from './db.js';
import { kevCatalogWatch } from './finding-watch.js';

/** The claim when the caller names none: longer than any attempt's HTTP timeout. */
export const DEFAULT_DELIVERY_LEASE_MS = 5 * 60_000;

const deliveryColumns = 'id, scan_id, group_name, url, event, body, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at';

// What a claim answers: the row as it was due (`claimed` holds the time before the claim moved it).
const claimedColumns = deliveryColumns
  .split(', ')
  .map((column) => (column === 'next_attempt_at' ? 'claimed.next_attempt_at' : `d.${column}`))
  .join(', ');

/** All of them in one statement, whatever their number. */
async function insertDeliveries(client: Queryable, deliveries: readonly DeliveryRow[]): Promise<void> {
  if (deliveries.length === 0) return;
  await client.query(
    `INSERT INTO deliveries (${deliveryColumns}) SELECT ${deliveryColumns} FROM jsonb_to_recordset($1::jsonb) AS d(
       id text, scan_id text, group_name text, url text, event text, body text, status text, attempts integer,
       next_attempt_at text, last_status integer, last_error text, created_at text, delivered_at text)`,
    [JSON.stringify(deliveries)],
  );
}

interface RawAlert {
  id: string;
  kind: 'kev' | 'exposed';
  created_at: string;
  scan_id: string;
  finding_id: string;
  kev: string | null;
}

export function pgNotifications(db: PgDb): NotificationStore {
  return {
    async pendingAlerts() {
      const alerts = await db.query<RawAlert>(
        `SELECT id, kind, created_at, scan_id, finding_id, kev FROM finding_alerts WHERE state = 'pending' ORDER BY created_at, id`,
      );
      if (alerts.length === 0) return [];
      const [scans, findings] = await Promise.all([
        db.query<RawScan>('SELECT * FROM scans WHERE id = ANY($1::text[])', [[...new Set(alerts.map((alert) => alert.scan_id))]]),
        db.query<RawFindingView>(`${findingViewSelect} WHERE f.id = ANY($1::text[])`, [alerts.map((alert) => alert.finding_id)]),
      ]);
      const scanOf = new Map(scans.map((row) => [row.id, hydrateScan(row)]));
      const findingOf = new Map(findings.map((row) => [row.id, row]));
      const gone: string[] = [];
      const answer = alerts.flatMap((alert): FindingAlert[] => {
        const scan = scanOf.get(alert.scan_id);
        const finding = findingOf.get(alert.finding_id);
        // Its scan was deleted since: nothing to tell, and it must not stay pending forever.
        if (scan === undefined || finding === undefined) {
          gone.push(alert.id);
          return [];
        }
        const hydrated = hydrateFinding(finding);
        // A catalog-update alert: the finding was stored before its CVE was in KEV; the entry seen then tells.
        if (alert.kev !== null) hydrated.kev = fromJson(alert.kev);
        return [{ id: alert.id, kind: alert.kind, created_at: alert.created_at, scan, finding: hydrated }];
      });
      if (gone.length > 0) await db.query(`UPDATE finding_alerts SET state = 'queued' WHERE id = ANY($1::text[])`, [gone]);
      return answer;
    },
    async pendingChanges() {
      const changes = await db.query<RawChange>(
        `SELECT id, event, site_id, scan_id, data, created_at FROM change_alerts WHERE state = 'pending' ORDER BY created_at, id`,
      );
      if (changes.length === 0) return [];
      const scans = await db.query<RawScan>('SELECT * FROM scans WHERE id = ANY($1::text[])', [[...new Set(changes.map((change) => change.scan_id))]]);
      const scanOf = new Map(scans.map((row) => [row.id, hydrateScan(row)]));
      // Its scan was deleted since: nothing to tell, and it must not stay pending forever.
      const gone = changes.filter((change) => !scanOf.has(change.scan_id)).map((change) => change.id);
      if (gone.length > 0) await db.query(`UPDATE change_alerts SET state = 'queued' WHERE id = ANY($1::text[])`, [gone]);
      // A run no schedule made: the groups of the organization's schedules that cover its site (a schedule's sites: [{id, subnet}]).
      const orphans = changes.flatMap((change) => {
        const scan = scanOf.get(change.scan_id);
        return scan !== undefined && scan.notification_group === null ? [{ org: scan.org_id, site: change.site_id }] : [];
      });
      const watchers = new Map<string, string[]>();
      if (orphans.length > 0) {
        const rows = await db.query<{ org_id: string; site_id: string; notification_group: string }>(
          `SELECT DISTINCT k.org_id, k.site_id, s.notification_group
           FROM unnest($1::text[], $2::text[]) AS k (org_id, site_id)
             JOIN schedules s ON s.org_id = k.org_id
             CROSS JOIN LATERAL jsonb_array_elements(s.sites::jsonb) AS j (site)
           WHERE j.site ->> 'id' = k.site_id ORDER BY s.notification_group`,
          [orphans.map((o) => o.org), orphans.map((o) => o.site)],
        );
        for (const row of rows) watchers.set(`${row.org_id} ${row.site_id}`, [...(watchers.get(`${row.org_id} ${row.site_id}`) ?? []), row.notification_group]);
      }
      return changes.flatMap((change) => {
        const scan = scanOf.get(change.scan_id);
        if (scan === undefined) return [];
        const groups = scan.notification_group === null ? (watchers.get(`${scan.org_id} ${change.site_id}`) ?? []) : [scan.notification_group];
        return [changeAlertOf(change, scan, groups)];
      });
    },
    async queueChange(changeId, deliveries) {
      await db.tx(async (client) => {
        // Another node queued it first: its deliveries are the change's.
        const { rowCount } = await client.query(`UPDATE change_alerts SET state = 'queued' WHERE id = $1 AND state = 'pending'`, [changeId]);
        if (rowCount === 1) await insertDeliveries(client, deliveries);
      });
    },
    async kevCatalogUpdated(catalog, at) {
      // The watch locks the states it moves: a second node applying the same update raises nothing.
      return db.tx((client) => kevCatalogWatch(client, catalog, at));
    },
    async queueAlert(alertId, deliveries) {
      await db.tx(async (client) => {
        // Another node queued it first: its deliveries are the alert's.
        const { rowCount } = await client.query(`UPDATE finding_alerts SET state = 'queued' WHERE id = $1 AND state = 'pending'`, [alertId]);
        if (rowCount === 1) await insertDeliveries(client, deliveries);
      });
    },
    async awaiting() {
      // SQLite sorts a null first; a pending scan has finished, the NULLS FIRST only keeps the engines alike.
      const rows = await db.query<RawScan>(`SELECT * FROM scans WHERE notify_state = 'pending' ORDER BY finished_at NULLS FIRST, id`);
      return rows.map(hydrateScan);
    },
    async coverageOf(scanId) {
      const rows = await db.query<{ site_id: string; coverage: string | null }>(
        'SELECT site_id, coverage FROM sub_scans WHERE scan_id = $1 ORDER BY created_at, site_id',
        [scanId],
      );
      return rows.map((row) => ({ site_id: row.site_id, coverage: fromJson(row.coverage) }));
    },
    async queue(scanId, deliveries) {
      await db.tx(async (client) => {
        // The row lock orders two nodes queueing the same scan; the second finds it queued and adds nothing.
        const { rowCount } = await client.query(`UPDATE scans SET notify_state = 'queued' WHERE id = $1 AND notify_state = 'pending'`, [scanId]);
        if (rowCount === 1) await insertDeliveries(client, deliveries);
      });
    },
    async due(nowIso, limit, leaseMs = DEFAULT_DELIVERY_LEASE_MS) {
      const leaseUntil = new Date(Date.parse(nowIso) + leaseMs).toISOString();
      // Answers each row as it was before the claim: its attempt is recorded against the time it was due.
      const rows = await db.query<DeliveryRow>(
        `UPDATE deliveries d SET next_attempt_at = $3
         FROM (SELECT id, next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
               ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) AS claimed
         WHERE d.id = claimed.id
         RETURNING ${claimedColumns}`,
        [nowIso, limit, leaseUntil],
      );
      return rows.sort((a, b) => compare(a.next_attempt_at, b.next_attempt_at) || compare(a.id, b.id));
    },
    async nextDueAt() {
      const [row] = await db.query<{ at: string | null }>(`SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending'`);
      return row?.at ?? undefined;
    },
    async recordAttempt(id, update) {
      // Only a pending row: a node whose lease ran out must not undo what another node recorded since.
      await db.query(
        `UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_status = $5, last_error = $6, delivered_at = $7
         WHERE id = $1 AND status = 'pending'`,
        [id, update.status, update.attempts, update.next_attempt_at, update.last_status, update.last_error, update.delivered_at],
      );
    },
    async list(scanId) {
      return scanId === undefined
        ? db.query<DeliveryRow>('SELECT * FROM deliveries ORDER BY created_at, id')
        : db.query<DeliveryRow>('SELECT * FROM deliveries WHERE scan_id = $1 ORDER BY created_at, id', [scanId]);
    },
  };
}

/** Byte order, as the C collation sorts (ASCII text: ids and ISO times). */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

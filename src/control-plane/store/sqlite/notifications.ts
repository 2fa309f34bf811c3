import type { Db } from '../../../shared/sqlite.js';
import type { DeliveryRow, NotificationStore } from '../types.js';
import { kevCatalogWatch } from './finding-watch.js';
import { fromJson } from '../json.js';
import { changeAlertOf, findingViewSelect, hydrateFinding, hydrateScan, type RawChange, type RawFindingView } from '../rows.js';

export function sqliteNotifications(db: Db): NotificationStore {
  const awaiting = db.prepare(`SELECT * FROM scans WHERE notify_state = 'pending' ORDER BY finished_at`);
  // Conditional, as on PostgreSQL: a scan queued already (or gone) gets no second set of deliveries.
  const queued = db.prepare(`UPDATE scans SET notify_state = 'queued' WHERE id = ? AND notify_state = 'pending'`);
  const insert = db.prepare(
    `INSERT INTO deliveries (id, scan_id, group_name, url, event, body, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at)
     VALUES (@id, @scan_id, @group_name, @url, @event, @body, @status, @attempts, @next_attempt_at, @last_status, @last_error, @created_at, @delivered_at)`,
  );
  const due = db.prepare<[string, number], DeliveryRow>(
    `SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
  );
  const nextDue = db.prepare<[], string>(`SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'`).pluck();
  const attempt = db.prepare(
    `UPDATE deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next_attempt_at, last_status = @last_status, last_error = @last_error, delivered_at = @delivered_at WHERE id = @id`,
  );
  const coverage = db.prepare<[string], { site_id: string; coverage: string | null }>(
    'SELECT site_id, coverage FROM sub_scans WHERE scan_id = ? ORDER BY created_at, site_id',
  );
  const all = db.prepare<[], DeliveryRow>('SELECT * FROM deliveries ORDER BY created_at, id');
  const ofScan = db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE scan_id = ? ORDER BY created_at, id');
  const queue = db.transaction((scanId: string, deliveries: DeliveryRow[]) => {
    if (queued.run(scanId).changes === 0) return;
    for (const delivery of deliveries) insert.run(delivery);
  });
  const pendingAlerts = db.prepare<[], { id: string; kind: 'kev' | 'exposed'; created_at: string; scan_id: string; finding_id: string; kev: string | null }>(
    `SELECT id, kind, created_at, scan_id, finding_id, kev FROM finding_alerts WHERE state = 'pending' ORDER BY created_at, id`,
  );
  const scanOf = db.prepare('SELECT * FROM scans WHERE id = ?');
  const findingOf = db.prepare<[string], RawFindingView>(`${findingViewSelect} WHERE f.id = ?`);
  const alertQueued = db.prepare(`UPDATE finding_alerts SET state = 'queued' WHERE id = ? AND state = 'pending'`);
  const queueAlert = db.transaction((alertId: string, deliveries: DeliveryRow[]) => {
    if (alertQueued.run(alertId).changes === 0) return;
    for (const delivery of deliveries) insert.run(delivery);
  });
  const kevUpdate = kevCatalogWatch(db);
  const pendingChanges = db.prepare<[], RawChange>(
    `SELECT id, event, site_id, scan_id, data, created_at FROM change_alerts WHERE state = 'pending' ORDER BY created_at, id`,
  );
  // The groups of the organization's schedules that cover the site (a schedule's sites: [{id, subnet}]).
  const siteGroups = db
    .prepare<[string, string], string>(
      `SELECT DISTINCT s.notification_group FROM schedules s, json_each(s.sites) j WHERE s.org_id = ? AND json_extract(j.value, '$.id') = ? ORDER BY 1`,
    )
    .pluck();
  const changeQueued = db.prepare(`UPDATE change_alerts SET state = 'queued' WHERE id = ? AND state = 'pending'`);
  const queueChange = db.transaction((changeId: string, deliveries: DeliveryRow[]) => {
    if (changeQueued.run(changeId).changes === 0) return;
    for (const delivery of deliveries) insert.run(delivery);
  });
  return {
    async pendingChanges() {
      return pendingChanges.all().flatMap((change) => {
        const scan = scanOf.get(change.scan_id) as Parameters<typeof hydrateScan>[0] | undefined;
        // Its scan was deleted since: nothing to tell, and it must not stay pending forever.
        if (scan === undefined) {
          changeQueued.run(change.id);
          return [];
        }
        const hydrated = hydrateScan(scan);
        return [
          changeAlertOf(
            change,
            hydrated,
            hydrated.notification_group === null ? siteGroups.all(hydrated.org_id, change.site_id) : [hydrated.notification_group],
          ),
        ];
      });
    },
    async queueChange(changeId, deliveries) {
      queueChange.immediate(changeId, deliveries);
    },
    async pendingAlerts() {
      return pendingAlerts.all().flatMap((alert) => {
        const scan = scanOf.get(alert.scan_id) as Parameters<typeof hydrateScan>[0] | undefined;
        const finding = findingOf.get(alert.finding_id);
        // Its scan was deleted since: nothing to tell, and it must not stay pending forever.
        if (scan === undefined || finding === undefined) {
          alertQueued.run(alert.id);
          return [];
        }
        const hydrated = hydrateFinding(finding);
        // A catalog-update alert: the finding was stored before its CVE was in KEV; the entry seen then tells.
        if (alert.kev !== null) hydrated.kev = fromJson(alert.kev);
        return [{ id: alert.id, kind: alert.kind, created_at: alert.created_at, scan: hydrateScan(scan), finding: hydrated }];
      });
    },
    async kevCatalogUpdated(catalog, at) {
      return kevUpdate.immediate(catalog, at);
    },
    async queueAlert(alertId, deliveries) {
      queueAlert.immediate(alertId, deliveries);
    },
    async awaiting() {
      return (awaiting.all() as Parameters<typeof hydrateScan>[0][]).map(hydrateScan);
    },
    async coverageOf(scanId) {
      return coverage.all(scanId).map((row) => ({ site_id: row.site_id, coverage: fromJson(row.coverage) }));
    },
    async queue(scanId, deliveries) {
      queue.immediate(scanId, deliveries);
    },
    // One process attempts them (the notifier's passes never overlap): nothing to claim, the lease is not needed.
    async due(nowIso, limit) {
      return due.all(nowIso, limit);
    },
    async nextDueAt() {
      return nextDue.get() ?? undefined;
    },
    async recordAttempt(id, update) {
      attempt.run({ ...update, id });
    },
    async list(scanId) {
      return scanId === undefined ? all.all() : ofScan.all(scanId);
    },
  };
}

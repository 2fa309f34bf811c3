import type { Db } from '../../../shared/sqlite.js';
import type { CommandItem, NewSubScan, RouterInventoryRow, ScanEventRow, ScanStore } from '../types.js';
import { commandWriter } from './commands.js';
import { fromJson, toJson } from '../json.js';
import type { ScanState } from './scan-state.js';
import type { SqliteSignals } from './signals.js';
import { compareAddresses } from '../../../shared/ipv4.js';
import {
  hydrateFinding,
  hydrateHost,
  hydrateScan,
  hydrateSubScan,
  scanFields,
  findingViewSelect,
  type RawFindingView,
  type RawHost,
  type RawScan,
  type RawSubScan,
} from '../rows.js';

/** Sets a schedule's last_run_at when one of its scans is initiated (never moving it back). */
export function scheduleRunMarker(db: Db): (scheduleId: string, at: string) => void {
  const update = db.prepare('UPDATE schedules SET last_run_at = @at WHERE id = @id AND (last_run_at IS NULL OR last_run_at < @at)');
  return (scheduleId, at) => void update.run({ at, id: scheduleId });
}

export function sqliteScans(db: Db, state: ScanState, signals: SqliteSignals): ScanStore {
  const insertScan = db.prepare(
    `INSERT INTO scans (id, org_id, schedule_id, slot_at, kind, label, min_cvss, warning_threshold, ignore_offline_sites, notification_group, status, created_at)
     VALUES (@id, @org_id, @schedule_id, @slot_at, @kind, @label, @min_cvss, @warning_threshold, @ignore_offline_sites, @notification_group, 'queued', @created_at)
     ON CONFLICT (schedule_id, slot_at) DO NOTHING`,
  );
  const bySlot = db.prepare<[string, string], RawScan>(`SELECT ${scanFields} FROM scans WHERE schedule_id = ? AND slot_at = ?`);
  const byId = db.prepare<[string], RawScan>(`SELECT ${scanFields} FROM scans WHERE id = ?`);
  const byOrg = db.prepare<[string, string], RawScan>(`SELECT ${scanFields} FROM scans WHERE org_id = ? AND id = ?`);
  const listOrg = db.prepare<[string], RawScan>(`SELECT ${scanFields} FROM scans WHERE org_id = ? ORDER BY created_at DESC, id`);
  const listSchedule = db.prepare<[string, string], RawScan>(
    `SELECT ${scanFields} FROM scans WHERE org_id = ? AND schedule_id = ? ORDER BY created_at DESC, id`,
  );
  const active = db.prepare<[string], RawScan>(
    `SELECT ${scanFields} FROM scans WHERE schedule_id = ? AND status IN ('queued', 'scanning') ORDER BY created_at DESC LIMIT 1`,
  );
  const insertSub = db.prepare(
    `INSERT INTO sub_scans (id, scan_id, site_id, subnets, target_ips, status, error, created_at, finished_at)
     VALUES (@id, @scan_id, @site_id, @subnets, @target_ips, @status, @error, @created_at, @finished_at) ON CONFLICT (scan_id, site_id) DO NOTHING`,
  );
  const subs = db.prepare<[string], RawSubScan>('SELECT * FROM sub_scans WHERE scan_id = ? ORDER BY created_at, site_id');
  const inventories = db.prepare<[string], { sub_scan_id: string; site_id: string; at: string; body: string }>(
    `SELECT s.id AS sub_scan_id, s.site_id, i.at, i.body FROM sub_scans s
       JOIN inventories i ON i.id = (SELECT max(id) FROM inventories WHERE sub_scan_id = s.id)
     WHERE s.scan_id = ?`,
  );
  const totals = db.prepare<[string], { status: string; n: number; progress: number; paused: number }>(
    'SELECT status, COUNT(*) AS n, SUM(progress) AS progress, SUM(paused_until IS NOT NULL) AS paused FROM sub_scans WHERE scan_id = ? GROUP BY status',
  );
  const insertEvent = db.prepare('INSERT INTO scan_events (scan_id, site_id, at, level, message) VALUES (?, ?, ?, ?, ?)');
  const events = db.prepare<[string, number], ScanEventRow>(
    'SELECT at, level, site_id, message FROM (SELECT * FROM scan_events WHERE scan_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const aggregates = db.prepare<
    [string, string, string, string, string, string],
    { unique_cves: number; open_ports: number; unique_ports: number; hosts_scanned: number; hosts_with_cves: number; sites_with_cves: number }
  >(
    `SELECT (SELECT COUNT(*) FROM scan_cves WHERE scan_id = ?) AS unique_cves,
            (SELECT COALESCE(SUM(port_count), 0) FROM hosts WHERE scan_id = ?) AS open_ports,
            (SELECT COUNT(*) FROM scan_ports WHERE scan_id = ?) AS unique_ports,
            (SELECT COUNT(*) FROM hosts WHERE scan_id = ?) AS hosts_scanned,
            (SELECT COUNT(*) FROM hosts WHERE scan_id = ? AND cve_count > 0) AS hosts_with_cves,
            -- Counted CVEs only: a finding the distribution patched does not move cve_count.
            (SELECT COUNT(DISTINCT site_id) FROM hosts WHERE scan_id = ? AND cve_count > 0) AS sites_with_cves`,
  );
  const hosts = db.prepare<[string], RawHost>(
    'SELECT id, scan_id, site_id, ip, mac, hostname, manufacturer, os, sources, open_ports, cve_count, created_at FROM hosts WHERE scan_id = ? ORDER BY site_id, ip',
  );
  const findings = db.prepare<[string], RawFindingView>(`${findingViewSelect} WHERE f.scan_id = ? ORDER BY c.score DESC, f.id`);
  const changeSub = db.prepare(
    `UPDATE sub_scans SET status = @status, error = COALESCE(@error, error),
       finished_at = CASE WHEN @status IN ('completed', 'failed', 'stopped', 'skipped') THEN COALESCE(finished_at, @at) ELSE finished_at END
     WHERE id = @id AND scan_id = @scan_id`,
  );
  const stop = db.prepare('UPDATE scans SET stop_requested = 1 WHERE id = ?');
  const markRun = scheduleRunMarker(db);
  const overdue = db.prepare<[string], RawSubScan>(`SELECT * FROM sub_scans WHERE status IN ('pending', 'queued', 'scanning', 'stopping') AND created_at <= ?`);

  const addSubScans = (scanId: string, list: NewSubScan[], at: string) => {
    for (const sub of list) {
      const terminal = sub.status === 'failed' || sub.status === 'skipped' || sub.status === 'stopped' || sub.status === 'completed';
      insertSub.run({
        ...sub,
        scan_id: scanId,
        subnets: toJson(sub.subnets),
        target_ips: sub.target_ips && toJson(sub.target_ips),
        created_at: at,
        finished_at: terminal ? at : null,
      });
    }
  };

  const writeCommands = commandWriter(db, signals);
  const create = db.transaction((input: Parameters<ScanStore['create']>[0], at: string, commands: CommandItem[]) => {
    const { scan } = input;
    const inserted = insertScan.run({ ...scan, ignore_offline_sites: scan.ignore_offline_sites ? 1 : 0 }).changes === 1;
    if (inserted && scan.schedule_id !== null) markRun(scan.schedule_id, scan.slot_at ?? at);
    const row = inserted || scan.schedule_id === null || scan.slot_at === null ? byId.get(scan.id) : bySlot.get(scan.schedule_id, scan.slot_at);
    if (!row) throw new Error(`scan ${scan.id} vanished while being created`);
    addSubScans(row.id, input.subScans, at);
    for (const event of input.events) insertEvent.run(row.id, event.site_id, at, event.level, event.message);
    const finished = state.recompute(row.id, at);
    return { scan: hydrateScan(byId.get(row.id) as RawScan), created: inserted, finished, commands: writeCommands(commands) };
  });

  const change = db.transaction(
    (scanId: string, changes: Parameters<ScanStore['changeSubScans']>[1], event: { level: string; message: string } | null, at: string) => {
      for (const c of changes) changeSub.run({ ...c, scan_id: scanId, at });
      if (event) insertEvent.run(scanId, null, at, event.level, event.message);
      return state.recompute(scanId, at);
    },
  );

  return {
    async create(input, at, commands = []) {
      return signals.committed(() => create.immediate(input, at, commands));
    },
    async get(orgId, id) {
      const row = byOrg.get(orgId, id);
      return row && hydrateScan(row);
    },
    async list(orgId, scheduleId) {
      return (scheduleId === undefined ? listOrg.all(orgId) : listSchedule.all(orgId, scheduleId)).map(hydrateScan);
    },
    async latestOfSchedule(orgId, scheduleId) {
      const row = listSchedule.get(orgId, scheduleId);
      return row && hydrateScan(row);
    },
    async activeOfSchedule(scheduleId) {
      const row = active.get(scheduleId);
      return row && hydrateScan(row);
    },
    async subScans(scanId) {
      return subs.all(scanId).map(hydrateSubScan);
    },
    async routerInventories(scanId) {
      return inventories
        .all(scanId)
        .map(({ body, ...row }): RouterInventoryRow => ({ ...row, ...fromJson<Omit<RouterInventoryRow, 'sub_scan_id' | 'site_id' | 'at'>>(body) }));
    },
    async siteTotals(scanId) {
      const result = { targets: 0, scanned: 0, failed: 0, progress: 0, paused: 0 };
      for (const { status, n, progress, paused } of totals.all(scanId)) {
        if (status === 'skipped') continue;
        const done = status === 'completed' || status === 'failed' || status === 'stopped';
        result.targets += n;
        if (done) result.scanned += n;
        if (status === 'failed') result.failed += n;
        result.progress += done ? 100 * n : progress;
        if (!done) result.paused += paused;
      }
      return result;
    },
    async events(scanId, limit = 1_000_000) {
      return events.all(scanId, limit);
    },
    async aggregates(scanId) {
      return aggregates.get(scanId, scanId, scanId, scanId, scanId, scanId) as Awaited<ReturnType<ScanStore['aggregates']>>;
    },
    async hosts(scanId) {
      // By site, then by address in numeric order (10.0.0.9 before 10.0.0.10), as the agent's report.
      return hosts
        .all(scanId)
        .sort((a, b) => (a.site_id < b.site_id ? -1 : a.site_id > b.site_id ? 1 : compareAddresses(a.ip, b.ip)))
        .map(hydrateHost);
    },
    async findings(scanId) {
      return findings.all(scanId).map(hydrateFinding);
    },
    async changeSubScans(scanId, changes, event, at) {
      return change.immediate(scanId, changes, event, at);
    },
    async requestStop(scanId) {
      stop.run(scanId);
    },
    async overdueSubScans(beforeIso) {
      return overdue.all(beforeIso).map(hydrateSubScan);
    },
  };
}

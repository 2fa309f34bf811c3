/**
 * Scans on PostgreSQL, answering as sqlite/scans.ts. A schedule's slot fires once across nodes:
 * the slot's scan is inserted with ON CONFLICT (schedule_id, slot_at) DO NOTHING, so a second
 * node creating the same slot waits for the first to commit and then takes its scan; of the
 * sub-scans it brings only those the scan lacks are inserted, and only those sites get its events
 * and commands. The loser of a race therefore writes nothing, while a slot an agent started on
 * its own (ingest created the scan with that site only) still gets its other sites.
 */
import type { CommandItem, NewSubScan, RouterInventoryRow, ScanAggregates, ScanEventRow, ScanStore, SiteTotals } from '../types.js';
import { fromJson, toJson } from '../json.js';
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
import type { PgDb, Queryable } from './db.js';
import { byKey, insertRows, rowsOf } from './bulk.js';
import { commandWriter } from './commands.js';
import { markScheduleRun } from './ingest-runs.js';
import { recomputeScans } from './scan-state.js';

const terminalSub = (status: string) => status === 'failed' || status === 'skipped' || status === 'stopped' || status === 'completed';

export function pgScans(db: PgDb): ScanStore {
  const first = async <R extends object>(sql: string, values: unknown[]): Promise<R | undefined> =>
    (await db.query<R & Record<string, unknown>>(sql, values))[0];
  const listSchedule = `SELECT ${scanFields} FROM scans WHERE org_id = $1 AND schedule_id = $2 ORDER BY created_at DESC, id`;

  /** Inserts the sub-scans the scan lacks; answers the sites whose sub-scan this call inserted. */
  const addSubScans = async (client: Queryable, scanId: string, list: readonly NewSubScan[], at: string): Promise<Set<string>> => {
    const rows = list.map((sub) => ({
      id: sub.id,
      scan_id: scanId,
      site_id: sub.site_id,
      subnets: toJson(sub.subnets),
      target_ips: sub.target_ips && toJson(sub.target_ips),
      status: sub.status,
      error: sub.error,
      created_at: at,
      finished_at: terminalSub(sub.status) ? at : null,
    }));
    const inserted = await insertRows<{ site_id: string }>(
      client,
      'sub_scans',
      ['id', 'scan_id', 'site_id', 'subnets', 'target_ips', 'status', 'error', 'created_at', 'finished_at'],
      rows,
      'ON CONFLICT (scan_id, site_id) DO NOTHING RETURNING site_id',
    );
    return new Set(inserted.map((row) => row.site_id));
  };

  const insertEvents = (client: Queryable, scanId: string, at: string, events: readonly { site_id: string | null; level: string; message: string }[]) =>
    insertRows(
      client,
      'scan_events',
      ['scan_id', 'site_id', 'at', 'level', 'message'],
      events.map((event) => ({ scan_id: scanId, site_id: event.site_id, at, level: event.level, message: event.message })),
    );

  return {
    async create(input, at, commands: CommandItem[] = []) {
      return db.tx(async (client) => {
        const { scan } = input;
        const inserted =
          (
            await client.query(
              `INSERT INTO scans (id, org_id, schedule_id, slot_at, kind, label, min_cvss, warning_threshold, ignore_offline_sites, notification_group, status, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11) ON CONFLICT (schedule_id, slot_at) DO NOTHING`,
              [
                scan.id,
                scan.org_id,
                scan.schedule_id,
                scan.slot_at,
                scan.kind,
                scan.label,
                scan.min_cvss,
                scan.warning_threshold,
                scan.ignore_offline_sites,
                scan.notification_group,
                scan.created_at,
              ],
            )
          ).rowCount === 1;
        if (inserted && scan.schedule_id !== null) await markScheduleRun(client, scan.schedule_id, scan.slot_at ?? at);
        const row = (
          inserted || scan.schedule_id === null || scan.slot_at === null
            ? await client.query<RawScan>(`SELECT ${scanFields} FROM scans WHERE id = $1`, [scan.id])
            : await client.query<RawScan>(`SELECT ${scanFields} FROM scans WHERE schedule_id = $1 AND slot_at = $2`, [scan.schedule_id, scan.slot_at])
        ).rows[0];
        if (!row) throw new Error(`scan ${scan.id} vanished while being created`);
        const added = await addSubScans(client, row.id, input.subScans, at);
        // An existing scan (another node's, or one an agent started) gets what goes with the sites added now, nothing twice.
        const ours = (siteId: string | null) => inserted || (siteId !== null && added.has(siteId));
        await insertEvents(
          client,
          row.id,
          at,
          input.events.filter((event) => ours(event.site_id)),
        );
        const finished = (await recomputeScans(client, [row.id], at)).length > 0;
        const items = commands.filter((item) => ours(item.siteId));
        // commandWriter NOTIFYs the sites' nodes in this transaction (sent at commit).
        const stored = await commandWriter(client, items);
        const current = (await client.query<RawScan>(`SELECT ${scanFields} FROM scans WHERE id = $1`, [row.id])).rows[0] as RawScan;
        return { scan: hydrateScan(current), created: inserted, finished, commands: stored };
      });
    },
    async get(orgId, id) {
      const row = await first<RawScan>(`SELECT ${scanFields} FROM scans WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return row && hydrateScan(row);
    },
    async list(orgId, scheduleId) {
      const rows =
        scheduleId === undefined
          ? await db.query<RawScan>(`SELECT ${scanFields} FROM scans WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId])
          : await db.query<RawScan>(listSchedule, [orgId, scheduleId]);
      return rows.map(hydrateScan);
    },
    async latestOfSchedule(orgId, scheduleId) {
      const row = await first<RawScan>(`${listSchedule} LIMIT 1`, [orgId, scheduleId]);
      return row && hydrateScan(row);
    },
    async activeOfSchedule(scheduleId) {
      const row = await first<RawScan>(
        `SELECT ${scanFields} FROM scans WHERE schedule_id = $1 AND status IN ('queued', 'scanning') ORDER BY created_at DESC LIMIT 1`,
        [scheduleId],
      );
      return row && hydrateScan(row);
    },
    async subScans(scanId) {
      return (await db.query<RawSubScan>('SELECT * FROM sub_scans WHERE scan_id = $1 ORDER BY created_at, site_id', [scanId])).map(hydrateSubScan);
    },
    async routerInventories(scanId) {
      const rows = await db.query<{ sub_scan_id: string; site_id: string; at: string; body: string }>(
        `SELECT s.id AS sub_scan_id, s.site_id, i.at, i.body FROM sub_scans s
           JOIN inventories i ON i.id = (SELECT max(id) FROM inventories WHERE sub_scan_id = s.id)
         WHERE s.scan_id = $1 ORDER BY s.site_id`,
        [scanId],
      );
      return rows.map(({ body, ...row }): RouterInventoryRow => ({ ...row, ...fromJson<Omit<RouterInventoryRow, 'sub_scan_id' | 'site_id' | 'at'>>(body) }));
    },
    async siteTotals(scanId) {
      const result: SiteTotals = { targets: 0, scanned: 0, failed: 0, progress: 0, paused: 0 };
      const rows = await db.query<{ status: string; n: number; progress: number; paused: number }>(
        'SELECT status, COUNT(*) AS n, SUM(progress) AS progress, COUNT(paused_until) AS paused FROM sub_scans WHERE scan_id = $1 GROUP BY status ORDER BY status',
        [scanId],
      );
      for (const { status, n, progress, paused } of rows) {
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
      return db.query<ScanEventRow & Record<string, unknown>>(
        'SELECT at, level, site_id, message FROM (SELECT * FROM scan_events WHERE scan_id = $1 ORDER BY id DESC LIMIT $2) AS latest ORDER BY id',
        [scanId, limit],
      );
    },
    async aggregates(scanId) {
      const row = await first<ScanAggregates>(
        `SELECT (SELECT COUNT(*) FROM scan_cves WHERE scan_id = $1) AS unique_cves,
                (SELECT COALESCE(SUM(port_count), 0) FROM hosts WHERE scan_id = $1) AS open_ports,
                (SELECT COUNT(*) FROM scan_ports WHERE scan_id = $1) AS unique_ports,
                (SELECT COUNT(*) FROM hosts WHERE scan_id = $1) AS hosts_scanned,
                (SELECT COUNT(*) FROM hosts WHERE scan_id = $1 AND cve_count > 0) AS hosts_with_cves,
                -- Counted CVEs only: a finding the distribution patched does not move cve_count.
                (SELECT COUNT(DISTINCT site_id) FROM hosts WHERE scan_id = $1 AND cve_count > 0) AS sites_with_cves`,
        [scanId],
      );
      return row as ScanAggregates;
    },
    async hosts(scanId) {
      const rows = await db.query<RawHost & Record<string, unknown>>(
        'SELECT id, scan_id, site_id, ip, mac, hostname, manufacturer, os, sources, open_ports, cve_count, created_at FROM hosts WHERE scan_id = $1',
        [scanId],
      );
      // By site, then by address in numeric order (10.0.0.9 before 10.0.0.10), as the agent's report.
      return rows.sort((a, b) => byKey(a.site_id, b.site_id) || compareAddresses(a.ip, b.ip)).map(hydrateHost);
    },
    async findings(scanId) {
      return (await db.query<RawFindingView & Record<string, unknown>>(`${findingViewSelect} WHERE f.scan_id = $1 ORDER BY c.score DESC, f.id`, [scanId])).map(
        hydrateFinding,
      );
    },
    async changeSubScans(scanId, changes, event, at) {
      return db.tx(async (client) => {
        // One row per sub-scan (the last change of it wins, as applied in order).
        const sorted = [...new Map(changes.map((c) => [c.id, c])).values()].sort((a, b) => byKey(a.id, b.id));
        // The sub-scans' rows in id order, as every writer of them takes them, then the scan's (in recompute).
        await client.query('SELECT 1 FROM sub_scans WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [sorted.map((c) => c.id)]);
        if (sorted.length > 0)
          await client.query(
            `UPDATE sub_scans s SET status = r.status, error = COALESCE(r.error, s.error),
               finished_at = CASE WHEN r.status IN ('completed', 'failed', 'stopped', 'skipped') THEN COALESCE(s.finished_at, $3) ELSE s.finished_at END
             FROM (${rowsOf('sub_scans', ['id', 'status', 'error'])}) r WHERE s.id = r.id AND s.scan_id = $2`,
            [JSON.stringify(sorted), scanId, at],
          );
        if (event) await insertEvents(client, scanId, at, [{ site_id: null, level: event.level, message: event.message }]);
        return (await recomputeScans(client, [scanId], at)).length > 0;
      });
    },
    async requestStop(scanId) {
      await db.query('UPDATE scans SET stop_requested = true WHERE id = $1', [scanId]);
    },
    async overdueSubScans(beforeIso) {
      return (
        await db.query<RawSubScan & Record<string, unknown>>(
          `SELECT * FROM sub_scans WHERE status IN ('pending', 'queued', 'scanning', 'stopping') AND created_at <= $1 ORDER BY status, created_at, id`,
          [beforeIso],
        )
      ).map(hydrateSubScan);
    },
  };
}

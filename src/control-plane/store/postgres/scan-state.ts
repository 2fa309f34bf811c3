/**
 * Keeps scans' statuses in step with their sub-scans, inside the caller's transaction: many scans
 * in a few statements. The scan rows are locked (in id order) before their sub-scans are counted,
 * so of two nodes finishing the last two sites of one scan the second counts both, and exactly
 * one of them sees the scan finish for the first time (its notification is then due).
 */
import { deriveScanStatus, isTerminalScan } from '../../scans/status.js';
import type { ScanStatus, SubScanStatus } from '../types.js';
import type { Queryable } from './db.js';
import { byKey, rowsOf } from './bulk.js';

/** Recomputes the scans' statuses; answers those that became terminal for the first time, in id order. */
export async function recomputeScans(client: Queryable, scanIds: Iterable<string>, at: string): Promise<string[]> {
  const ids = [...new Set(scanIds)].sort(byKey);
  if (ids.length === 0) return [];
  const current = (
    await client.query<{ id: string; status: ScanStatus; finished_at: string | null; cve_count: number }>(
      'SELECT id, status, finished_at, cve_count FROM scans WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
      [ids],
    )
  ).rows;
  if (current.length === 0) return [];
  // Counts, not rows: a scan over thousands of sites is recomputed at every site's start and end.
  const counted = await client.query<{ scan_id: string; status: SubScanStatus }>(
    'SELECT scan_id, status FROM sub_scans WHERE scan_id = ANY($1::text[]) GROUP BY scan_id, status ORDER BY scan_id, status',
    [ids],
  );
  const statuses = new Map<string, SubScanStatus[]>();
  for (const row of counted.rows) statuses.set(row.scan_id, [...(statuses.get(row.scan_id) ?? []), row.status]);
  const unsure = current.filter((scan) => scan.cve_count === 0 && !(statuses.get(scan.id) ?? []).includes('completed')).map((scan) => scan.id);
  const withHosts = new Set(
    unsure.length === 0
      ? []
      : (
          await client.query<{ id: string }>('SELECT id FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM hosts WHERE scan_id = id)', [unsure])
        ).rows.map((row) => row.id),
  );
  const firstFinished: string[] = [];
  const updates = [];
  for (const scan of current) {
    const subs = statuses.get(scan.id) ?? [];
    const hasResults = scan.cve_count > 0 || subs.includes('completed') || withHosts.has(scan.id);
    const status = deriveScanStatus(subs, hasResults, scan.status);
    const terminal = isTerminalScan(status);
    const firstFinish = terminal && scan.finished_at === null;
    if (firstFinish) firstFinished.push(scan.id);
    let error: string | null = null;
    if (status === 'failed') {
      const failed = (
        await client.query<{ error: string | null; site_id: string }>(
          `SELECT error, site_id FROM sub_scans WHERE scan_id = $1 AND status = 'failed' ORDER BY created_at, site_id LIMIT 20`,
          [scan.id],
        )
      ).rows.map((row) => `site ${row.site_id}: ${row.error ?? 'failed'}`);
      error =
        subs.length === 0 || subs.every((s) => s === 'skipped')
          ? 'no site of the scan was online'
          : failed.join('; ').slice(0, 1000) || 'the scan was stopped before any result';
    }
    updates.push({
      id: scan.id,
      status,
      started_at: status === 'scanning' || terminal ? at : null,
      finished_at: terminal ? at : null,
      notify_state: firstFinish ? 'pending' : null,
      error,
    });
  }
  await client.query(
    `UPDATE scans s SET status = r.status, started_at = COALESCE(s.started_at, r.started_at), finished_at = COALESCE(s.finished_at, r.finished_at),
       notify_state = COALESCE(r.notify_state, s.notify_state), error = r.error
     FROM (${rowsOf('scans', ['id', 'status', 'started_at', 'finished_at', 'notify_state', 'error'])}) r WHERE s.id = r.id`,
    [JSON.stringify(updates)],
  );
  return firstFinished;
}

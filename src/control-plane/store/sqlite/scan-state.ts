/** Keeps a scan's status in step with its sub-scans; runs inside the caller's transaction. */
import type { Db } from '../../../shared/sqlite.js';
import { deriveScanStatus, isTerminalScan } from '../../scans/status.js';
import type { ScanStatus, SubScanStatus } from '../types.js';

export interface ScanState {
  /** Recomputes the scan's status; true when it became terminal for the first time (its notification is then due). */
  recompute(scanId: string, at: string): boolean;
}

export function sqliteScanState(db: Db): ScanState {
  const counts = db.prepare<[string], { status: SubScanStatus; n: number }>('SELECT status, COUNT(*) AS n FROM sub_scans WHERE scan_id = ? GROUP BY status');
  const failures = db.prepare<[string], { error: string | null; site_id: string }>(
    `SELECT error, site_id FROM sub_scans WHERE scan_id = ? AND status = 'failed' LIMIT 20`,
  );
  const scan = db.prepare<[string], { status: ScanStatus; finished_at: string | null; cve_count: number }>(
    'SELECT status, finished_at, cve_count FROM scans WHERE id = ?',
  );
  const anyHost = db.prepare<[string], number>('SELECT EXISTS (SELECT 1 FROM hosts WHERE scan_id = ?)').pluck();
  const update = db.prepare(
    `UPDATE scans SET status = @status, started_at = COALESCE(started_at, @started), finished_at = COALESCE(finished_at, @finished),
       notify_state = CASE WHEN @notify = 1 THEN 'pending' ELSE notify_state END, error = @error WHERE id = @id`,
  );
  return {
    recompute(scanId, at) {
      const current = scan.get(scanId);
      if (!current) return false;
      // Counts, not rows: a scan over thousands of sites is recomputed at every site's start and end.
      const byStatus = counts.all(scanId);
      const statuses = byStatus.map((row) => row.status);
      const hasResults = current.cve_count > 0 || statuses.includes('completed') || anyHost.get(scanId) === 1;
      const status = deriveScanStatus(statuses, hasResults, current.status);
      const terminal = isTerminalScan(status);
      const firstFinish = terminal && current.finished_at === null;
      let error: string | null = null;
      if (status === 'failed') {
        const failed = failures.all(scanId).map((row) => `site ${row.site_id}: ${row.error ?? 'failed'}`);
        error =
          statuses.length === 0 || statuses.every((s) => s === 'skipped')
            ? 'no site of the scan was online'
            : failed.join('; ').slice(0, 1000) || 'the scan was stopped before any result';
      }
      update.run({
        id: scanId,
        status,
        started: status === 'scanning' || terminal ? at : null,
        finished: terminal ? at : null,
        notify: firstFinish ? 1 : 0,
        error,
      });
      return firstFinish;
    },
  };
}

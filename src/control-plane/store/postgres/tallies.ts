/**
 * The counters a finding moves (its host's, its sub-scan's, its scan's, the scan's per-CVE count),
 * summed over a batch and written at its end, one statement per table. A scan's counters are
 * shared by every site of the scan, whichever node ingests it: the scan rows are locked first, in
 * id order (lockScans), and every counter is an increment of the row as it is now, so concurrent
 * batches of two nodes wait for each other instead of losing an update or deadlocking.
 */
import { isWarning } from '../../../shared/report/thresholds.js';
import type { Queryable } from './db.js';
import { byKey, rowsOf } from './bulk.js';

export interface TallyFinding {
  /** The host's key in the batch (`<sub_scan_id> <ip>`): its id is known once the hosts are written. */
  host: string;
  mac: string | null;
  sub: string;
  scan: string;
  cve: string;
  score: number;
  /** false (a CVE the distribution patched): received, not counted as a vulnerability. */
  counted?: boolean;
}

/** Locks the scans' rows in id order and answers their warning thresholds. */
export async function lockScans(client: Queryable, scanIds: Iterable<string>): Promise<Map<string, number>> {
  const ids = [...new Set(scanIds)].sort(byKey);
  if (ids.length === 0) return new Map();
  const rows = await client.query<{ id: string; warning_threshold: number }>(
    'SELECT id, warning_threshold FROM scans WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  return new Map(rows.rows.map((row) => [row.id, row.warning_threshold]));
}

export class PgTallies {
  readonly #hosts = new Map<string, { n: number; mac: string | null }>();
  readonly #subs = new Map<string, number>();
  readonly #scanCves = new Map<string, { scan: string; cve: string; n: number }>();
  readonly #scans = new Map<string, { n: number; sum: number; max: number; scores: number[] }>();

  add(finding: TallyFinding): void {
    this.#subs.set(finding.sub, (this.#subs.get(finding.sub) ?? 0) + 1);
    if (finding.counted === false) return;
    const host = this.#hosts.get(finding.host) ?? { n: 0, mac: finding.mac };
    host.n += 1;
    host.mac ??= finding.mac;
    this.#hosts.set(finding.host, host);
    const key = `${finding.scan} ${finding.cve}`;
    const pair = this.#scanCves.get(key) ?? { scan: finding.scan, cve: finding.cve, n: 0 };
    pair.n += 1;
    this.#scanCves.set(key, pair);
    const scan = this.#scans.get(finding.scan) ?? { n: 0, sum: 0, max: 0, scores: [] };
    scan.n += 1;
    scan.sum += finding.score;
    scan.max = Math.max(scan.max, finding.score);
    scan.scores.push(finding.score);
    this.#scans.set(finding.scan, scan);
  }

  /** Findings of a sub-scan counted here but not written yet. */
  pendingFor(subId: string): number {
    return this.#subs.get(subId) ?? 0;
  }

  /** The scans whose counters this batch moves (to lock before writing). */
  scans(): string[] {
    return [...this.#scans.keys()];
  }

  /**
   * Writes the sums. `hostIds` resolves a host key to its row's id; `thresholds` are the scans'
   * warning thresholds from lockScans (which must have locked every scan of `scans()`).
   */
  async write(client: Queryable, hostIds: ReadonlyMap<string, string>, thresholds: ReadonlyMap<string, number>): Promise<void> {
    if (this.#subs.size === 0) return;
    const hosts = [...this.#hosts].map(([key, { n, mac }]) => ({ id: hostIds.get(key), cve_count: n, mac })).sort((a, b) => byKey(a.id ?? '', b.id ?? ''));
    if (hosts.length > 0)
      await client.query(
        `UPDATE hosts h SET cve_count = h.cve_count + r.cve_count, mac = COALESCE(h.mac, r.mac) FROM (${rowsOf('hosts', ['id', 'cve_count', 'mac'])}) r WHERE h.id = r.id`,
        [JSON.stringify(hosts)],
      );
    const subs = [...this.#subs].map(([id, n]) => ({ id, findings_received: n })).sort((a, b) => byKey(a.id, b.id));
    await client.query(
      `UPDATE sub_scans s SET findings_received = s.findings_received + r.findings_received FROM (${rowsOf('sub_scans', ['id', 'findings_received'])}) r WHERE s.id = r.id`,
      [JSON.stringify(subs)],
    );
    const pairs = [...this.#scanCves.values()].map(({ scan, cve, n }) => ({ scan_id: scan, cve_id: cve, count: n }));
    pairs.sort((a, b) => byKey(a.scan_id, b.scan_id) || byKey(a.cve_id, b.cve_id));
    if (pairs.length > 0)
      await client.query(
        `INSERT INTO scan_cves (scan_id, cve_id, count) ${rowsOf('scan_cves', ['scan_id', 'cve_id', 'count'])}
         ON CONFLICT (scan_id, cve_id) DO UPDATE SET count = scan_cves.count + excluded.count`,
        [JSON.stringify(pairs)],
      );
    const scans = [...this.#scans].map(([id, { n, sum, max, scores }]) => {
      const limit = thresholds.get(id) ?? Infinity;
      return { id, cve_count: n, score_sum: sum, highest_score: max, warning_count: scores.filter((s) => isWarning(s, limit)).length };
    });
    if (scans.length > 0)
      await client.query(
        `UPDATE scans s SET cve_count = s.cve_count + r.cve_count, score_sum = s.score_sum + r.score_sum,
           highest_score = GREATEST(COALESCE(s.highest_score, 0), r.highest_score), warning_count = s.warning_count + r.warning_count
         FROM (${rowsOf('scans', ['id', 'cve_count', 'score_sum', 'highest_score', 'warning_count'])}) r WHERE s.id = r.id`,
        [JSON.stringify(scans)],
      );
    this.#hosts.clear();
    this.#subs.clear();
    this.#scanCves.clear();
    this.#scans.clear();
  }
}

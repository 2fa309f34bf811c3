/**
 * The counters a finding moves (its host's, its sub-scan's, its scan's, the scan's per-CVE count),
 * summed over a batch and written once per row at its end. Per finding they were four updates
 * of rows scattered over the file; per batch each row is written once.
 */
import type { Db } from '../../../shared/sqlite.js';
import { isWarning } from '../../../shared/report/thresholds.js';

export class Tallies {
  readonly #hosts = new Map<string, { n: number; mac: string | null }>();
  readonly #subs = new Map<string, number>();
  readonly #scanCves = new Map<string, { scan: string; cve: string; n: number }>();
  readonly #scans = new Map<string, { n: number; sum: number; max: number; scores: number[] }>();
  readonly #write: (tallies: Tallies) => void;

  constructor(write: (tallies: Tallies) => void) {
    this.#write = write;
  }

  /** `counted: false` (a CVE the distribution patched): received, not counted as a vulnerability. */
  add(finding: { host: string; mac: string | null; sub: string; scan: string; cve: string; score: number; counted?: boolean }): void {
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

  flush(): void {
    if (this.#subs.size === 0) return;
    this.#write(this);
    this.#hosts.clear();
    this.#subs.clear();
    this.#scanCves.clear();
    this.#scans.clear();
  }

  static writer(db: Db): (tallies: Tallies) => void {
    const host = db.prepare('UPDATE hosts SET cve_count = cve_count + ?, mac = COALESCE(mac, ?) WHERE id = ?');
    const sub = db.prepare('UPDATE sub_scans SET findings_received = findings_received + ? WHERE id = ?');
    const scanCve = db.prepare('INSERT INTO scan_cves (scan_id, cve_id, count) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count');
    const threshold = db.prepare<[string], number>('SELECT warning_threshold FROM scans WHERE id = ?').pluck();
    const scan = db.prepare(
      `UPDATE scans SET cve_count = cve_count + @n, score_sum = score_sum + @sum, highest_score = MAX(COALESCE(highest_score, 0), @max),
         warning_count = warning_count + @warnings WHERE id = @id`,
    );
    return (t) => {
      for (const [id, { n, mac }] of t.#hosts) host.run(n, mac, id);
      for (const [id, n] of t.#subs) sub.run(n, id);
      for (const { scan: id, cve, n } of t.#scanCves.values()) scanCve.run(id, cve, n);
      for (const [id, { n, sum, max, scores }] of t.#scans) {
        const limit = threshold.get(id) ?? Infinity;
        scan.run({ id, n, sum, max, warnings: scores.filter((s) => isWarning(s, limit)).length });
      }
    };
  }
}

import { randomUUID } from 'node:crypto';
import type { Db } from '../../shared/sqlite.js';
import { markInForce, type MarkStatus } from '../../shared/marks.js';

export type { MarkStatus };

export interface VulnMark {
  id: string;
  mac: string | null;
  ip: string | null;
  cve_id: string;
  status: MarkStatus;
  justification: string;
  author: string;
  expires_at: string | null;
  /** The product and version the mark was made for: it stops applying once the device runs another version. */
  cpe: string | null;
  scan_id: string | null;
  origin: 'cli' | 'control_plane';
  created_at: string;
}

export interface AppliedMark extends VulnMark {
  /** Keyed by IP only (the host had no MAC): an address can change hands, so this is a weaker identity. */
  weak: boolean;
}

/**
 * Accepted/mitigated marks per (device, CVE). Append-only: each mark is a new row, so the
 * history stays; the latest unexpired one is the device's status for that CVE.
 */
export class MarksRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  add(mark: Omit<VulnMark, 'id' | 'created_at'>, now: string): VulnMark {
    if (mark.mac === null && mark.ip === null) throw new Error('a mark needs a MAC or an IP');
    // A mark made without naming a version takes the one last seen on that device.
    const cpe = mark.cpe ?? this.#lastSeenCpe(mark.mac, mark.ip, mark.cve_id);
    const row: VulnMark = { ...mark, cpe, id: randomUUID(), created_at: now };
    this.#db
      .prepare(
        `INSERT INTO vuln_marks (id, mac, ip, cve_id, status, justification, author, expires_at, cpe, scan_id, origin, created_at)
         VALUES (@id, @mac, @ip, @cve_id, @status, @justification, @author, @expires_at, @cpe, @scan_id, @origin, @created_at)`,
      )
      .run(row);
    return row;
  }

  #lastSeenCpe(mac: string | null, ip: string | null, cveId: string): string | null {
    const row = this.#db
      .prepare<[string, string | null, string | null, string | null], { cpe: string }>(
        `SELECT f.cpe FROM findings f JOIN scan_hosts h ON h.id = f.host_id
         WHERE f.cve_id = ? AND ((? IS NOT NULL AND h.mac = ?) OR (h.mac IS NULL AND h.ip = ?))
         ORDER BY f.created_at DESC LIMIT 1`,
      )
      .get(cveId, mac, mac, mac === null ? ip : null);
    return row?.cpe ?? null;
  }

  history(filter: { mac?: string; ip?: string; cve_id?: string } = {}): VulnMark[] {
    return this.#db
      .prepare<[string | null, string | null, string | null], VulnMark>(
        `SELECT * FROM vuln_marks WHERE (?1 IS NULL OR mac = ?1) AND (?2 IS NULL OR ip = ?2) AND (?3 IS NULL OR cve_id = ?3) ORDER BY created_at DESC, rowid DESC`,
      )
      .all(filter.mac ?? null, filter.ip ?? null, filter.cve_id ?? null);
  }

  /**
   * The mark in force for a finding (`markInForce`): the newest unexpired one for that device and
   * CVE, unless it was made for another product key. A host with a MAC is matched by MAC only.
   */
  applicable(finding: { mac: string | null; ip: string; cve_id: string; cpe: string }, now: string): AppliedMark | undefined {
    const marks =
      finding.mac !== null
        ? this.#db
            .prepare<[string, string], VulnMark>('SELECT * FROM vuln_marks WHERE cve_id = ? AND mac = ? ORDER BY created_at DESC, rowid DESC')
            .all(finding.cve_id, finding.mac)
        : this.#db
            .prepare<[string, string], VulnMark>('SELECT * FROM vuln_marks WHERE cve_id = ? AND mac IS NULL AND ip = ? ORDER BY created_at DESC, rowid DESC')
            .all(finding.cve_id, finding.ip);
    const mark = markInForce(marks, finding, new Date(now));
    return mark && { ...mark, weak: finding.mac === null };
  }
}

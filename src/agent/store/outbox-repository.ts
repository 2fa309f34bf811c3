import type { Report } from '../../protocol/frames.js';
import { upSchemas } from '../../protocol/frames.js';
import type { Db } from '../../shared/sqlite.js';

/** A report as the scans write it: the outbox gives it its seq. */
export type OutgoingReport = Report extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

export interface OutboxRow {
  seq: number;
  type: string;
  payload: string;
}

/**
 * The agent's queue of reports for the control plane: a store table that the scans append to
 * and the uplink drains, neither knowing the other. Rows are appended inside the same
 * transaction as the result they report, so a result is never stored without its report nor
 * reported without being stored; the uplink deletes them only when acknowledged.
 */
export class OutboxRepository {
  readonly #db: Db;
  readonly #insert;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare<[string, string, string]>('INSERT INTO outbox (type, payload, created_at) VALUES (?, ?, ?)');
  }

  /** Validates against the protocol now, so a frame the control plane would refuse is a bug found at the source. */
  append(report: OutgoingReport): number {
    const schema = upSchemas[report.type];
    const checked = schema.safeParse({ ...report, seq: 1 });
    if (!checked.success)
      throw new Error(`outbox: invalid ${report.type} report: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return Number(this.#insert.run(report.type, JSON.stringify(report), report.at).lastInsertRowid);
  }

  /** The oldest unacknowledged rows after `afterSeq`, at most `limit`: the uplink's window. */
  pending(afterSeq: number, limit: number): OutboxRow[] {
    return this.#db.prepare<[number, number], OutboxRow>('SELECT seq, type, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit);
  }

  /** The control plane has every row up to and including `seq`. */
  acknowledge(seq: number): number {
    return this.#db.prepare('DELETE FROM outbox WHERE seq <= ?').run(seq).changes;
  }

  count(): number {
    return this.#db.prepare('SELECT count(*) FROM outbox').pluck().get() as number;
  }

  /** What waits for the control plane: how many rows, and since when. */
  summary(): { pending: number; oldest: string | null } {
    return this.#db.prepare<[], { pending: number; oldest: string | null }>('SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox').get() as {
      pending: number;
      oldest: string | null;
    };
  }
}

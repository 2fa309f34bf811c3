/**
 * Streams the outbox to the control plane in seq order with a bounded window: at most `window`
 * rows are sent and unacknowledged at once, and only the rows about to be sent are read, so the
 * memory held does not grow with the outbox. Rows are deleted only when acknowledged; after a
 * reconnect the unacknowledged rest is sent again from the seq the welcome names.
 */
import type { Logger } from 'pino';
import type { OutboxRepository } from '../store/outbox-repository.js';
import type { Db } from '../../shared/sqlite.js';
import type { StorageGate } from '../storage-health.js';
import { systemTimers, type UplinkTimers } from './timers.js';
import type { UplinkSession } from './uplink-client.js';
import type { UplinkState } from './uplink-state.js';

export interface OutboxPumpDeps {
  db: Db;
  outbox: OutboxRepository;
  state: UplinkState;
  logger: Logger;
  timers?: UplinkTimers;
  /** Unacknowledged rows in flight at most. */
  window?: number;
  /** How often the outbox is looked at for rows the pipeline wrote since. */
  pollMs?: number;
  /** Acks within this long are deleted in one transaction (one fsync instead of one per ack). */
  ackFlushMs?: number;
  /** Told of a delete that fails on a full or failing disk; the rows stay and go at the next flush. */
  storage?: StorageGate;
}

export class OutboxPump {
  readonly #deps: OutboxPumpDeps;
  readonly #timers: UplinkTimers;
  readonly #window: number;
  readonly #log: Logger;
  #session: UplinkSession | undefined;
  /** Seqs sent on this connection and not yet acknowledged, oldest first (never more than the window). */
  #inFlight: number[] = [];
  #sentUpTo = 0;
  #poll: unknown;
  #flushTimer: unknown;
  /** Acknowledged but not yet deleted: rows at or below it are replayed after a crash, and the control plane ignores them. */
  #ackedUpTo = 0;
  /** Deleted (committed) up to here; behind #ackedUpTo while a flush is due or failed on a full disk. */
  #deletedUpTo: number;
  readonly #unwatch: (() => void) | undefined;
  /** The largest number of rows ever in flight at once: what the window test reads. */
  peakInFlight = 0;

  constructor(deps: OutboxPumpDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? systemTimers;
    this.#window = Math.max(1, deps.window ?? 128);
    this.#log = deps.logger.child({ component: 'uplink-outbox' });
    this.#deletedUpTo = deps.state.lastAckedSeq;
    // Acks that a full disk kept from being deleted go as soon as it has room again.
    this.#unwatch = deps.storage?.onChange((state) => {
      if (!state.failing) this.flush();
    });
  }

  /** The uplink is stopping: no more flushes on storage changes. */
  close(): void {
    this.detach();
    this.#unwatch?.();
  }

  attach(session: UplinkSession): void {
    this.detach();
    this.#session = session;
    // Everything at or below resume_after_seq is stored on the other side: those rows go, the rest is replayed.
    const resume = session.welcome.resume_after_seq;
    this.#ackedUpTo = Math.max(this.#ackedUpTo, resume);
    this.#acknowledge(resume);
    this.#sentUpTo = resume;
    this.#inFlight = [];
    this.pump();
    this.#poll = this.#timers.setInterval(() => this.pump(), this.#deps.pollMs ?? 200);
  }

  detach(): void {
    this.flush();
    this.#timers.clearInterval(this.#poll);
    this.#session = undefined;
    this.#inFlight = [];
  }

  acked(ack: number): void {
    // An ack beyond what this connection sent would delete rows the control plane never saw.
    const seq = Math.min(ack, this.#sentUpTo);
    if (seq < ack) this.#log.warn({ ack, sent_up_to: this.#sentUpTo }, 'the control plane acknowledged rows it was never sent; ignoring the excess');
    // The window moves at once; the rows go in the next flush.
    if (seq > this.#ackedUpTo) {
      this.#ackedUpTo = seq;
      this.#flushTimer ??= this.#timers.setTimeout(() => this.flush(), this.#deps.ackFlushMs ?? 50);
    }
    while (this.#inFlight.length > 0 && (this.#inFlight[0] as number) <= seq) this.#inFlight.shift();
    this.pump();
  }

  /** Sends what the window allows; called on every ack and by the poll. */
  pump(): void {
    const session = this.#session;
    if (!session?.open) return;
    const room = this.#window - this.#inFlight.length;
    // Refilled in batches (a quarter of the window, at most 16 rows) rather than one query per acked row.
    if (room < Math.max(1, Math.min(16, Math.floor(this.#window / 4)))) return;
    const rows = this.#deps.outbox.pending(this.#sentUpTo, room);
    for (const row of rows) {
      // The payload is the report without its seq: splice the seq in rather than parse and re-encode it.
      const text = `{"seq":${row.seq},${row.payload.slice(1)}`;
      this.#sentUpTo = row.seq;
      const bytes = Buffer.byteLength(text);
      if (bytes > session.welcome.max_frame_bytes) {
        // The control plane would close the connection over it at every attempt and the stream would
        // never move again; it stores by high-water mark, so the next ack lets this row go.
        this.#log.error(
          { seq: row.seq, type: row.type, bytes, max_frame_bytes: session.welcome.max_frame_bytes },
          'outbox row larger than the control plane accepts; skipped',
        );
        continue;
      }
      session.sendText(text);
      this.#inFlight.push(row.seq);
    }
    if (this.#inFlight.length > this.peakInFlight) this.peakInFlight = this.#inFlight.length;
  }

  /** Deletes every row acknowledged so far. */
  flush(): void {
    this.#timers.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#ackedUpTo > this.#deletedUpTo) this.#acknowledge(this.#ackedUpTo);
  }

  /**
   * Runs from a timer and from the socket's events, so it never throws: a delete that fails on a
   * full disk leaves the rows (the control plane has them, and ignores them if they come again)
   * and the next flush, at the next ack or when storage recovers, deletes them.
   */
  #acknowledge(seq: number): void {
    if (seq <= 0) return;
    let deleted: number;
    try {
      deleted = this.#deps.db.transaction(() => {
        this.#deps.state.setLastAcked(seq);
        return this.#deps.outbox.acknowledge(seq);
      })();
    } catch (error) {
      this.#deps.state.resync();
      if (this.#deps.storage?.failed(error, 'outbox acknowledge') !== true) this.#log.error({ err: error, seq }, 'outbox rows could not be deleted; kept');
      return;
    }
    this.#deletedUpTo = Math.max(this.#deletedUpTo, seq);
    if (deleted > 0) this.#log.debug({ seq, deleted }, 'outbox rows acknowledged');
  }
}

/**
 * Group commit: reports from every connection queue here and are applied in batches, one
 * transaction each, so ten thousand findings a second cost a few hundred commits, not ten
 * thousand. Acknowledgements go out only after the commit, so an acked report is durable and
 * queryable.
 */
import type { Logger } from 'pino';
import type { IngestItem, IngestOutcome, IngestResult, IngestStore } from '../store/types.js';

export interface IngestSource {
  /** Called once per batch with the highest seq of this source's reports in it, after the commit. */
  acknowledge(seq: number): void;
  rejected(seq: number, reason: string): void;
  /** The batch failed to commit: the source must drop the connection so the agent replays. */
  failed(error: Error): void;
}

/** A report a committed batch applied, with the scan it belongs to (null for a report of no scan). */
export interface AppliedReport {
  item: IngestItem;
  scan_id: string | null;
}

export interface IngestorDeps {
  store: IngestStore;
  logger: Logger;
  onFinishedScans: (scanIds: string[]) => void;
  /** Called once per committed batch with the reports it applied, in order (none: not called). */
  onApplied?: (applied: readonly AppliedReport[]) => void;
  /** Batches hold at most this many reports, which bounds how long one commit blocks the event loop. */
  maxBatch?: number;
  /** A batch smaller than maxBatch waits this long for company: fewer, fuller commits under load. */
  lingerMs?: number;
}

interface Entry {
  source: IngestSource;
  item: IngestItem;
}

export class Ingestor {
  readonly #deps: IngestorDeps;
  readonly #maxBatch: number;
  #queue: Entry[] = [];
  #flushing: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #onDrain: (() => void)[] = [];
  #batches = 0;

  constructor(deps: IngestorDeps) {
    this.#deps = deps;
    this.#maxBatch = deps.maxBatch ?? 1000;
  }

  get pending(): number {
    return this.#queue.length;
  }

  get batches(): number {
    return this.#batches;
  }

  /** Called after every batch (to resume paused connections). */
  onDrain(listener: () => void): void {
    this.#onDrain.push(listener);
  }

  push(source: IngestSource, item: IngestItem): void {
    this.#queue.push({ source, item });
    if (this.#flushing === undefined) {
      const linger = this.#deps.lingerMs ?? 5;
      this.#flushing = new Promise<void>((resolve) => setTimeout(resolve, linger)).then(() => this.#run());
    }
  }

  /** Resolves once everything queued so far is applied (or failed). */
  async drain(): Promise<void> {
    if (this.#flushing === undefined) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      await this.#flush(batch);
      for (const listener of this.#onDrain) listener();
      // The SQLite store answers synchronously: without this, a long queue would hold the event
      // loop for every batch in a row, and REST requests and pings would wait behind all of them.
      // A short queue lingers like the first push did, so the next batch is a full one.
      if (this.#queue.length >= this.#maxBatch) await new Promise<void>((resolve) => setImmediate(resolve));
      else if (this.#queue.length > 0) await new Promise<void>((resolve) => setTimeout(resolve, this.#deps.lingerMs ?? 5));
    }
    this.#flushing = undefined;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #flush(batch: Entry[]): Promise<void> {
    let outcome: IngestOutcome;
    try {
      outcome = await this.#deps.store.ingest(batch.map((entry) => entry.item));
    } catch (error) {
      this.#deps.logger.error({ err: error, reports: batch.length }, 'ingest batch failed; dropping its connections so the agents replay');
      for (const source of new Set(batch.map((entry) => entry.source))) source.failed(error as Error);
      return;
    }
    this.#batches += 1;
    const highest = new Map<IngestSource, number>();
    const applied: AppliedReport[] = [];
    batch.forEach((entry, index) => {
      const result = outcome.results[index] as IngestResult;
      const seq = entry.item.report.seq;
      if (result.outcome === 'applied') applied.push({ item: entry.item, scan_id: result.scan_id ?? null });
      if (result.outcome === 'rejected') {
        this.#deps.logger.warn({ site_id: entry.item.site.id, seq, type: entry.item.report.type, reason: result.reason }, 'report rejected and quarantined');
        entry.source.rejected(seq, result.reason);
      }
      highest.set(entry.source, Math.max(highest.get(entry.source) ?? 0, seq));
    });
    for (const [source, seq] of highest) source.acknowledge(seq);
    if (applied.length > 0) this.#deps.onApplied?.(applied);
    // Finding alerts (KEV, exposure) go out without waiting for their scan to finish.
    if (outcome.finished_scans.length > 0 || outcome.alerts === true) this.#deps.onFinishedScans(outcome.finished_scans);
  }
}

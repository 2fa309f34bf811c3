import { randomUUID } from 'node:crypto';
import { MetaRepository } from '../store/meta-repository.js';
import type { Db } from '../../shared/sqlite.js';

const keys = { streamId: 'uplink_stream_id', lastAcked: 'uplink_last_acked_seq', lastCommand: 'uplink_last_command_seq' } as const;

/** The uplink's remembered state as it stands, without creating anything (for `cve-agent uplink status`). */
export function readUplinkState(db: Db): { streamId: string | null; lastAckedSeq: number; lastCommandSeq: number } {
  const meta = new MetaRepository(db);
  return {
    streamId: meta.get(keys.streamId) ?? null,
    lastAckedSeq: Number(meta.get(keys.lastAcked) ?? 0),
    lastCommandSeq: Number(meta.get(keys.lastCommand) ?? 0),
  };
}

/**
 * What the uplink must remember across restarts, kept in agent.db: the outbox's stream id (new
 * with every new database), the highest up seq the control plane acknowledged and the highest
 * command seq applied. The hello carries all three.
 */
export class UplinkState {
  readonly #meta: MetaRepository;
  readonly streamId: string;
  #lastAcked: number;
  #lastCommand: number;

  constructor(db: Db) {
    this.#meta = new MetaRepository(db);
    let streamId = this.#meta.get(keys.streamId);
    if (streamId === undefined) {
      streamId = randomUUID();
      this.#meta.set(keys.streamId, streamId);
    }
    this.streamId = streamId;
    this.#lastAcked = Number(this.#meta.get(keys.lastAcked) ?? 0);
    this.#lastCommand = Number(this.#meta.get(keys.lastCommand) ?? 0);
  }

  get lastAckedSeq(): number {
    return this.#lastAcked;
  }

  get lastCommandSeq(): number {
    return this.#lastCommand;
  }

  /** Reads both seqs back from the store: after a transaction that set them was rolled back (a full disk). */
  resync(): void {
    this.#lastAcked = Number(this.#meta.get(keys.lastAcked) ?? 0);
    this.#lastCommand = Number(this.#meta.get(keys.lastCommand) ?? 0);
  }

  setLastAcked(seq: number): void {
    if (seq <= this.#lastAcked) return;
    this.#meta.set(keys.lastAcked, String(seq));
    this.#lastAcked = seq;
  }

  setLastCommand(seq: number): void {
    if (seq <= this.#lastCommand) return;
    this.#meta.set(keys.lastCommand, String(seq));
    this.#lastCommand = seq;
  }
}

/**
 * The console's live feed inside one process: every change worth showing an operator gets the
 * next cursor, is kept in a bounded ring (so a browser that reconnects catches up on what it
 * missed) and goes to the sockets of its organization only.
 */

/** What the console shows live (the spec's server → browser messages, without their cursor). */
export type LivePayload =
  | { type: 'scan'; scan_id: string; scan_schedule_id: string | null; status: string; progress: number; at: string }
  | { type: 'event'; scan_id: string; time: string; message: string }
  | {
      type: 'finding';
      scan_id: string;
      site_id: string;
      mac_address: string | null;
      ip_address: string;
      cve_id: string;
      score: number;
      severity: string;
    }
  | { type: 'site'; site_id: string; online: boolean; at: string };

export type LiveMessage = LivePayload & { cursor: number };

export type LiveListener = (message: LiveMessage) => void;

export interface LiveSubscription {
  /** The org's messages after `since`, oldest first; 'resync' when the ring no longer holds them all. */
  replay: LiveMessage[] | 'resync';
  /** The cursor the subscriber stands at once it has the replay (the hello's cursor). */
  cursor: number;
  unsubscribe(): void;
}

export interface LiveBusOptions {
  /** Messages kept for replay, all organizations together (default 10,000). */
  capacity?: number;
  /** The cursor before the first message; defaults to one past any cursor an earlier process can have handed out. */
  base?: number;
}

interface Entry {
  org: string;
  message: LiveMessage;
}

export const LIVE_RING_CAPACITY = 10_000;

export class LiveBus {
  readonly #capacity: number;
  readonly #base: number;
  readonly #ring: (Entry | undefined)[];
  readonly #listeners = new Map<string, Set<LiveListener>>();
  #cursor: number;

  constructor(options: LiveBusOptions = {}) {
    this.#capacity = Math.max(1, options.capacity ?? LIVE_RING_CAPACITY);
    // The cursor lives in memory: after a restart it starts from the clock in microseconds, so a
    // browser's cursor from the previous process is below it (a resync) and never mistaken for a
    // position in this one's ring. A process would need over 1,000 messages a millisecond to outrun it.
    this.#base = options.base ?? Date.now() * 1000;
    this.#cursor = this.#base;
    this.#ring = new Array<Entry | undefined>(this.#capacity);
  }

  get cursor(): number {
    return this.#cursor;
  }

  /** Sockets subscribed, all organizations together. */
  get subscribers(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }

  publish(org: string, payload: LivePayload): LiveMessage {
    this.#cursor += 1;
    const message = { ...payload, cursor: this.#cursor } as LiveMessage;
    this.#ring[this.#cursor % this.#capacity] = { org, message };
    for (const listener of this.#listeners.get(org) ?? []) listener(message);
    return message;
  }

  /**
   * Subscribes to an organization's messages. The replay is computed and the listener registered
   * in one synchronous step, so nothing published in between is lost or sent twice.
   */
  subscribe(org: string, since: number | undefined, listener: LiveListener): LiveSubscription {
    const replay = since === undefined ? [] : this.#after(org, since);
    let set = this.#listeners.get(org);
    if (!set) {
      set = new Set();
      this.#listeners.set(org, set);
    }
    set.add(listener);
    return {
      replay,
      cursor: replay === 'resync' || since === undefined ? this.#cursor : since,
      unsubscribe: () => {
        set.delete(listener);
        if (set.size === 0 && this.#listeners.get(org) === set) this.#listeners.delete(org);
      },
    };
  }

  #after(org: string, since: number): LiveMessage[] | 'resync' {
    const oldest = Math.max(this.#base + 1, this.#cursor - this.#capacity + 1);
    // From another process (below the base or past the cursor), or older than the ring holds.
    if (!Number.isSafeInteger(since) || since < this.#base || since > this.#cursor || since + 1 < oldest) return 'resync';
    const found: LiveMessage[] = [];
    for (let cursor = since + 1; cursor <= this.#cursor; cursor += 1) {
      const entry = this.#ring[cursor % this.#capacity] as Entry;
      if (entry.org === org) found.push(entry.message);
    }
    return found;
  }
}

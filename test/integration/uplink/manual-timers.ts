import type { UplinkTimers } from '../../../src/agent/uplink/timers.js';

interface Pending {
  at: number;
  every: number | undefined;
  callback: () => void;
}

/** Timers that only move when the test says so, recording every wait they were asked for. */
export class ManualTimers implements UplinkTimers {
  #now = 0;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly requested: number[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    this.requested.push(ms);
    return this.#add({ at: this.#now + ms, every: undefined, callback });
  }

  setInterval(callback: () => void, ms: number): unknown {
    return this.#add({ at: this.#now + ms, every: ms, callback });
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  clearInterval(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Moves time forward, firing each timer that falls due on the way, in time order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = [...this.#pending.entries()].filter(([, p]) => p.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, pending] = due;
      this.#now = pending.at;
      if (pending.every === undefined) this.#pending.delete(id);
      else pending.at += pending.every;
      pending.callback();
    }
    this.#now = target;
  }

  #add(pending: Pending): number {
    const id = this.#nextId++;
    this.#pending.set(id, pending);
    return id;
  }
}

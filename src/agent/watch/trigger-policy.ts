import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { inScope } from '../../shared/ipv4.js';
import type { WatchChange } from '../routeros/index.js';

/** A micro-scan the policy asks for: these addresses (all inside the scope), and the router's judgement too when `withRouter`. */
export interface WatchScanRequest {
  ips: string[];
  /** The scope's subnets that hold `ips`. */
  subnets: string[];
  withRouter: boolean;
  /** Why, in words: what the router's tables said. */
  trigger: string;
}

export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TriggerPolicyDeps {
  clock: Clock;
  timers?: Timers;
  logger: Logger;
  /** Quiet time after a host's first change before its micro-scan, so a burst of rows about it makes one scan. */
  debounceMs: number;
  maxPerMinute: number;
  /** This site's subnets now (its schedules' and config's); nothing outside them is ever asked for. */
  scope: () => readonly string[];
  /** Scan windows: false defers the micro-scan (it is asked again a minute later). */
  mayScanNow: (ip: string, at: Date) => boolean;
  /** The router's address, judged by a run `withRouter` when its version or a neighbor's changes. */
  routerIp: () => string | undefined;
  start: (request: WatchScanRequest) => void;
  /** At most this many hosts wait (for the debounce, the rate or a window); more are dropped with a warning. */
  maxPending?: number;
}

export interface PolicyStats {
  started: number;
  /** Changes about addresses outside the scope: never scanned. */
  outOfScope: number;
  /** Hosts that waited for the rate cap or a closed window at least once. */
  deferred: number;
  /** Hosts dropped because too many were waiting. */
  dropped: number;
  /** Changes that named no address to scan (a bridge host with no IP yet, a neighbor with no address in scope). */
  unaddressed: number;
}

interface Pending {
  ip: string;
  dueAt: number;
  withRouter: boolean;
  triggers: string[];
  deferred: boolean;
}

const MINUTE = 60_000;

const describe = (change: WatchChange): string => {
  switch (change.kind) {
    case 'host':
      return `${change.reason} ${change.mac}${change.ip === null ? '' : ` at ${change.ip}`} (${change.table})`;
    case 'neighbor-version':
      return `neighbor ${change.identity ?? change.mac ?? '?'} RouterOS ${change.from} -> ${change.to}`;
    case 'router-version':
      return `router RouterOS ${change.from} -> ${change.to}`;
  }
};

/**
 * Decides which changes become micro-scans, and when: each host waits `debounceMs` after its
 * first change (later changes join it), then starts unless `maxPerMinute` scans started in the
 * last minute or its scan window is closed (it waits, in order). Only addresses inside the scope
 * are ever asked for. A version change of the router or a neighbor asks for a run that judges
 * the router's data (`withRouter`) on the neighbor's address, or the router's, whichever is in scope.
 */
export class TriggerPolicy {
  readonly #deps: TriggerPolicyDeps;
  readonly #timers: Timers;
  readonly #pending = new Map<string, Pending>();
  readonly #startedAt: number[] = [];
  readonly #stats: PolicyStats = { started: 0, outOfScope: 0, deferred: 0, dropped: 0, unaddressed: 0 };
  #timer: { handle: unknown; at: number } | undefined;
  #stopped = false;

  constructor(deps: TriggerPolicyDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? { setTimeout: (run, ms) => setTimeout(run, ms).unref(), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
  }

  get stats(): Readonly<PolicyStats> {
    return this.#stats;
  }

  /** Hosts waiting now. */
  get waiting(): number {
    return this.#pending.size;
  }

  offer(change: WatchChange): void {
    if (this.#stopped) return;
    const subnets = this.#deps.scope();
    const trigger = describe(change);
    if (change.kind === 'host') {
      if (change.ip === null) {
        this.#stats.unaddressed += 1;
        return;
      }
      if (!inScope(change.ip, subnets)) {
        this.#stats.outOfScope += 1;
        this.#deps.logger.debug({ ip: change.ip, trigger }, 'watch: change outside the site scope; not scanned');
        return;
      }
      this.#add(change.ip, false, trigger);
      return;
    }
    // Judged from the router's data: the run targets the neighbor if it is in scope, else the router.
    const candidates = change.kind === 'neighbor-version' ? [change.ip, this.#deps.routerIp()] : [this.#deps.routerIp()];
    const ip = candidates.find((candidate): candidate is string => candidate !== null && candidate !== undefined && inScope(candidate, subnets));
    if (ip === undefined) {
      this.#stats.unaddressed += 1;
      this.#deps.logger.warn(
        { trigger },
        'watch: no address of the router or the neighbor lies in the site scope; not re-judged until the next scheduled scan',
      );
      return;
    }
    this.#add(ip, true, trigger);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#timers.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #add(ip: string, withRouter: boolean, trigger: string): void {
    const existing = this.#pending.get(ip);
    if (existing) {
      existing.withRouter ||= withRouter;
      if (existing.triggers.length < 5) existing.triggers.push(trigger);
      return;
    }
    if (this.#pending.size >= (this.#deps.maxPending ?? 4096)) {
      this.#stats.dropped += 1;
      if (this.#stats.dropped === 1 || this.#stats.dropped % 1000 === 0)
        this.#deps.logger.warn({ dropped: this.#stats.dropped }, 'watch: too many hosts waiting for a micro-scan; the next scheduled scan covers the rest');
      return;
    }
    this.#pending.set(ip, { ip, dueAt: this.#now() + this.#deps.debounceMs, withRouter, triggers: [trigger], deferred: false });
    this.#arm();
  }

  #now(): number {
    return this.#deps.clock.now().getTime();
  }

  /** One timer, for the earliest host due. */
  #arm(): void {
    let next = Infinity;
    for (const entry of this.#pending.values()) next = Math.min(next, entry.dueAt);
    if (next === Infinity || (this.#timer && this.#timer.at <= next)) return;
    if (this.#timer) this.#timers.clearTimeout(this.#timer.handle);
    const at = next;
    this.#timer = { at, handle: this.#timers.setTimeout(() => this.#fire(), Math.max(0, at - this.#now())) };
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = this.#now();
    while (this.#startedAt.length > 0 && (this.#startedAt[0] as number) <= now - MINUTE) this.#startedAt.shift();
    for (const entry of [...this.#pending.values()]) {
      if (entry.dueAt > now) continue;
      if (this.#startedAt.length >= this.#deps.maxPerMinute) {
        // The cap: wait until the oldest start of the last minute leaves it.
        this.#defer(entry, (this.#startedAt[0] as number) + MINUTE);
        continue;
      }
      if (!this.#deps.mayScanNow(entry.ip, new Date(now))) {
        this.#defer(entry, now + MINUTE);
        continue;
      }
      this.#pending.delete(entry.ip);
      // The scope is asked again: a schedule removed while the host waited takes its subnets with it.
      const subnets = this.#deps.scope().filter((subnet) => inScope(entry.ip, [subnet]));
      if (subnets.length === 0) {
        this.#stats.outOfScope += 1;
        continue;
      }
      this.#startedAt.push(now);
      this.#stats.started += 1;
      try {
        this.#deps.start({ ips: [entry.ip], subnets, withRouter: entry.withRouter, trigger: entry.triggers.join('; ') });
      } catch (error) {
        this.#deps.logger.error({ err: error, ip: entry.ip }, 'watch: the micro-scan could not start');
      }
    }
    this.#arm();
  }

  #defer(entry: Pending, until: number): void {
    if (!entry.deferred) this.#stats.deferred += 1;
    entry.deferred = true;
    entry.dueAt = Math.max(entry.dueAt, until);
  }
}

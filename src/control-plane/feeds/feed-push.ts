/**
 * Brings every connected agent to the hub's newest feed version with ONE catch-up delta from the
 * version it reports: when a source run makes a new version, when an agent says hello, and when
 * a heartbeat tells a version older than the newest. The delta goes out as a `feed.file` transfer
 * (numbered, hashed chunks, stored as commands like every other, so a transfer cut by a
 * disconnect resumes at the next hello). An offline agent gets nothing queued: it gets the one
 * delta from where it is when it comes back, however many versions it missed.
 */
import type { Logger } from 'pino';
import { deltaFileName } from '../../cve/delta.js';
import type { AgentFeed } from '../../protocol/index.js';
import type { Clock } from '../../shared/clock.js';
import type { FeedStore } from './feed-store.js';

/** What the pusher needs of the agents' hub. */
export interface FeedPushTarget {
  onlineSites(): string[];
  pushFeedFile(siteIds: readonly string[], name: string, bytes: Buffer): Promise<string>;
}

export interface FeedPusherDeps {
  store: FeedStore;
  hub: FeedPushTarget;
  clock: Clock;
  logger: Logger;
  /** A delta that has not brought its agent forward by then is sent again (it may have been refused). */
  retryAfterMs?: number;
  /**
   * The most lines a delta may hold: it is read from feed.db on the event loop and stored once per
   * site, so a larger one (a full-NVD snapshot for an agent at version 0) is refused with one log
   * line rather than stalling the control plane (docs/feeds.md).
   */
  maxDeltaLines?: number;
}

export const DEFAULT_MAX_DELTA_LINES = 100_000;

interface InFlight {
  from: number;
  to: number;
  at: number;
  transferId: string | undefined;
}

const DEFAULT_RETRY_MS = 30 * 60_000;

export class FeedPusher {
  readonly #deps: FeedPusherDeps;
  readonly #log: Logger;
  /** The version each site's agent last reported. */
  readonly #reported = new Map<string, number>();
  /** The delta last queued for each site, until its agent reports the version it reaches. */
  readonly #inFlight = new Map<string, InFlight>();
  /** Refusals already logged (site, from, to): a heartbeat every interval must not repeat the line. */
  readonly #tooLarge = new Set<string>();
  /** Deltas built for the newest version, by `from`: sites at the same version share one build. */
  #built: { to: number; byFrom: Map<number, { name: string; bytes: Buffer; lines: number }> } = { to: 0, byFrom: new Map() };

  constructor(deps: FeedPusherDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'feed-push' });
  }

  /** An agent reported its version (hello or heartbeat). */
  agentReported(siteId: string, feed: AgentFeed): Promise<void> {
    this.#reported.set(siteId, feed.version);
    return this.#bringUp(siteId);
  }

  /** The hub made a new version: every connected agent that reported one gets its catch-up delta. */
  async newVersion(): Promise<void> {
    for (const siteId of this.#deps.hub.onlineSites()) if (this.#reported.has(siteId)) await this.#bringUp(siteId);
  }

  async #bringUp(siteId: string): Promise<void> {
    const held = this.#reported.get(siteId);
    if (held === undefined) return;
    const newest = this.#deps.store.newestVersion();
    const inFlight = this.#inFlight.get(siteId);
    if (held >= newest) {
      if (inFlight && held >= inFlight.to) this.#inFlight.delete(siteId);
      return;
    }
    const now = this.#deps.clock.now().getTime();
    // A delta already on its way reaches the newest from where the agent is: wait for it.
    if (inFlight && inFlight.from <= held && inFlight.to >= newest && now - inFlight.at < (this.#deps.retryAfterMs ?? DEFAULT_RETRY_MS)) return;
    const lines = this.#deps.store.deltaLines(held);
    const max = this.#deps.maxDeltaLines ?? DEFAULT_MAX_DELTA_LINES;
    if (lines > max) {
      if (!this.#tooLarge.has(`${siteId}:${held}:${newest}`)) {
        this.#tooLarge.add(`${siteId}:${held}:${newest}`);
        this.#log.error(
          { site_id: siteId, from: held, to: newest, lines, max_delta_lines: max },
          'feed delta larger than feeds.max_delta_lines; not sent (raise the limit; until then the site keeps its own data, which cve-agent feed update or feed import refresh)',
        );
      }
      return;
    }
    const built = this.#build(held, newest);
    if (!built) return;
    const entry: InFlight = { from: held, to: newest, at: now, transferId: undefined };
    // Claimed before the await, so a heartbeat arriving meanwhile does not build a second one.
    this.#inFlight.set(siteId, entry);
    try {
      entry.transferId = await this.#deps.hub.pushFeedFile([siteId], built.name, built.bytes);
      this.#log.info(
        { site_id: siteId, from: held, to: newest, bytes: built.bytes.length, lines: built.lines, transfer_id: entry.transferId },
        'feed delta queued for the agent',
      );
    } catch (error) {
      if (this.#inFlight.get(siteId) === entry) this.#inFlight.delete(siteId);
      this.#log.error({ site_id: siteId, err: error }, 'could not queue a feed delta; tried again at the next heartbeat');
    }
  }

  #build(from: number, newest: number): { name: string; bytes: Buffer; lines: number } | undefined {
    if (this.#built.to !== newest) this.#built = { to: newest, byFrom: new Map() };
    const cached = this.#built.byFrom.get(from);
    if (cached) return cached;
    const delta = this.#deps.store.writeDelta(from, this.#deps.clock.now());
    if (!delta || delta.header.to !== newest) return undefined;
    const built = { name: deltaFileName(delta.header.from, delta.header.to), bytes: delta.bytes, lines: delta.lines };
    this.#built.byFrom.set(from, built);
    return built;
  }
}

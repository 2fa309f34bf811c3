import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ChangeDetector, type FeedEvent, type KnownHosts, type RouterFeed, type WatchChange } from '../routeros/index.js';

export interface WatcherDeps {
  feed: RouterFeed;
  logger: Logger;
  /** What the agent knew of the site's MACs before this start: what changed while it was down is a change too. */
  known?: KnownHosts;
  /** Where each change goes (the trigger policy). */
  onChange: (change: WatchChange) => void;
  /** Reconnect backoff after a lost session: doubles from `baseMs` to `maxMs`, back to `baseMs` after a session that got its baseline. */
  backoff?: { baseMs: number; maxMs: number };
  /** Waits between sessions; tests pass one that does not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface Watcher {
  start(): void;
  /** Ends the session (listens cancelled) and waits for it; safe to call twice. */
  stop(): Promise<void>;
  /** Rows refused as malformed since start. */
  readonly rejectedRows: number;
  /** Sessions lost and opened again since start. */
  readonly reconnects: number;
  /** Sessions that took their baseline (every table read, the router's version known): changes from then on are seen. */
  readonly baselines: number;
}

/**
 * Keeps one router feed running for the agent's life: each event through the change detector,
 * each change to `onChange`. A lost session (router reboot, network) is opened again with
 * backoff; a malformed row is logged and skipped; nothing here ends the agent.
 */
export function createWatcher(deps: WatcherDeps): Watcher {
  const log = deps.logger.child({ component: 'watch' });
  const backoff = deps.backoff ?? { baseMs: 2000, maxMs: 60_000 };
  const wait = deps.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  const detector = new ChangeDetector(deps.known);
  let controller: AbortController | undefined;
  let running: Promise<void> | undefined;
  let rejectedRows = 0;
  let reconnects = 0;
  let baselines = 0;

  function take(event: FeedEvent, session: { baselined: boolean; ready: boolean }): void {
    const { changes, rejected } = detector.take(event);
    if (event.kind === 'snapshot') session.baselined = true;
    if (event.kind === 'router' && !session.ready) {
      session.ready = true;
      baselines += 1;
    }
    for (const reason of rejected) {
      rejectedRows += 1;
      log.warn({ reason }, `router row rejected: ${reason}`);
    }
    for (const change of changes) {
      log.info({ change }, 'router change');
      try {
        deps.onChange(change);
      } catch (error) {
        log.error({ err: error, change }, 'watch: the change could not be handled');
      }
    }
  }

  async function loop(signal: AbortSignal): Promise<void> {
    let delay = backoff.baseMs;
    while (!signal.aborted) {
      const session = { baselined: false, ready: false };
      try {
        log.info({ mode: deps.feed.mode }, deps.feed.mode === 'listen' ? 'watching the router (API listen)' : 'watching the router (SSH polling)');
        await deps.feed.run(signal, (event) => take(event, session));
      } catch (error) {
        if (signal.aborted) return;
        if (session.baselined) delay = backoff.baseMs;
        reconnects += 1;
        log.warn({ err: error, retry_in_ms: delay }, `router watch session lost: ${(error as Error).message}`);
        try {
          await wait(delay, signal);
        } catch {
          return;
        }
        delay = Math.min(backoff.maxMs, delay * 2);
      }
    }
  }

  return {
    start() {
      if (running) return;
      controller = new AbortController();
      running = loop(controller.signal);
    },
    async stop() {
      controller?.abort(new Error('watch stopping'));
      await running;
    },
    get rejectedRows() {
      return rejectedRows;
    },
    get reconnects() {
      return reconnects;
    },
    get baselines() {
      return baselines;
    },
  };
}

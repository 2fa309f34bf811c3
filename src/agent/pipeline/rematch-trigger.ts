/**
 * When to re-match: new CVE data arrives in bursts (a delta, then KEV and EPSS a moment later;
 * an import of several files), and each re-match re-judges every device. So the reasons are
 * gathered until the data has been quiet for `quietMs`, but never longer than `maxWaitMs` after
 * the first, and start ONE run; data arriving while a run goes on waits for it and starts one
 * more after it, with all the reasons that came meanwhile.
 */
import type { Logger } from 'pino';
import type { UplinkTimers } from '../uplink/timers.js';

export interface RematchTriggerDeps {
  timers: UplinkTimers;
  logger: Logger;
  /** Quiet time after the last arrival before the run starts (ms). */
  quietMs: number;
  /** The longest an arrival waits for its run (ms), however long the burst. */
  maxWaitMs: number;
  /** Starts one re-match named by `trigger`; resolves when it has ended (undefined: nothing was started). */
  start(trigger: string): Promise<unknown> | undefined;
}

export interface RematchTrigger {
  /** New CVE data arrived; `reason` says what ("feed delta 4→5: 12 CVEs added"). */
  notify(reason: string): void;
  /** Resolves once no run is waiting or going. */
  idle(): Promise<void>;
  /** Drops what waits; a run going on is the scans module's to pause. */
  stop(): void;
}

/** The trigger text a run is stored with: the reasons in arrival order, within the protocol's bound. */
export function triggerText(reasons: readonly string[]): string {
  const text = [...new Set(reasons)].join('; ');
  return text.length <= 300 ? text : `${text.slice(0, 297)}...`;
}

export function createRematchTrigger(deps: RematchTriggerDeps): RematchTrigger {
  const log = deps.logger.child({ component: 'rematch' });
  let reasons: string[] = [];
  let firstAt: number | undefined;
  let timer: unknown;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let settled: { promise: Promise<void>; resolve: () => void } | undefined;

  const waiting = () => reasons.length > 0 || running !== undefined;

  function settle(): void {
    if (waiting() || !settled) return;
    settled.resolve();
    settled = undefined;
  }

  function arm(): void {
    deps.timers.clearTimeout(timer);
    const now = deps.timers.now();
    const due = Math.min(now + deps.quietMs, (firstAt ?? now) + deps.maxWaitMs);
    timer = deps.timers.setTimeout(fire, Math.max(0, due - now));
  }

  function fire(): void {
    timer = undefined;
    // One run at a time: this one starts when the run going on ends.
    if (running !== undefined || stopped || reasons.length === 0) return;
    const trigger = triggerText(reasons);
    reasons = [];
    firstAt = undefined;
    let started: Promise<unknown> | undefined;
    try {
      started = deps.start(trigger);
    } catch (error) {
      log.error({ err: error, trigger }, `re-match could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (started === undefined) {
      settle();
      return;
    }
    running = started
      .catch((error: unknown) => log.error({ err: error, trigger }, 're-match failed'))
      .finally(() => {
        running = undefined;
        // Data that came during the run: its run starts now (the wait is over already).
        if (reasons.length > 0 && !stopped) fire();
        else settle();
      });
  }

  return {
    notify(reason) {
      if (stopped) return;
      reasons.push(reason);
      firstAt ??= deps.timers.now();
      if (running === undefined) arm();
    },
    idle() {
      if (!waiting()) return Promise.resolve();
      if (!settled) {
        let resolve = () => undefined as void;
        const promise = new Promise<void>((done) => (resolve = done));
        settled = { promise, resolve };
      }
      return settled.promise;
    },
    stop() {
      stopped = true;
      deps.timers.clearTimeout(timer);
      reasons = [];
      settle();
    },
  };
}

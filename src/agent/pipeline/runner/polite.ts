import { setTimeout as sleepFor } from 'node:timers/promises';
import type { CpuLoadReader } from '../../routeros/index.js';
import type { RateClock, RateLimiter } from '../../scan/limits.js';
import type { ConnectRateChange, ConnectRateNotes } from '../scan-types.js';
import type { RunContext } from './context.js';

/** When the scanner slows down for the site router (config `scan.router_load`). */
export interface PoliteSettings {
  /** Router CPU load (percent) above which the connect rate is halved at each reading. */
  ceilingPercent: number;
  /** How often the router's load is read. */
  intervalMs: number;
  /** The slowest the scanner goes, connects per second. */
  minConnectsPerSecond: number;
}

export const defaultPoliteSettings: Readonly<PoliteSettings> = Object.freeze({ ceilingPercent: 70, intervalMs: 5000, minConnectsPerSecond: 10 });

/** Real time; its sleep ends early (resolves) when the run ends. */
const realClock: RateClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }).catch(() => undefined),
};

export interface PoliteDeps {
  rate: RateLimiter;
  reader: CpuLoadReader;
  settings: PoliteSettings;
  clock?: RateClock;
}

const rateText = (rate: number) => (rate <= 0 ? 'no limit' : `${rate}/s`);

/**
 * The next connect rate for a reading (0 = no limit). Above the ceiling: half the rate in force
 * (with no limit set, half the rate measured since the last reading), never under the floor.
 * Under it, while slowed: twice the rate, up to the configured rate; with none configured, up
 * to the rate measured when the first slowdown began, where the limit is lifted. At the ceiling
 * exactly: as it is.
 */
export function nextRate(state: { current: number; configured: number; measured: number; recoverTo: number }, load: number, settings: PoliteSettings): number {
  const { current, configured, measured, recoverTo } = state;
  if (load > settings.ceilingPercent) {
    const base = current > 0 ? current : Math.max(measured, settings.minConnectsPerSecond);
    return Math.max(settings.minConnectsPerSecond, Math.floor(base / 2));
  }
  if (load < settings.ceilingPercent && current !== configured) {
    const doubled = current * 2;
    if (configured > 0) return Math.min(configured, doubled);
    return doubled >= recoverTo ? 0 : doubled;
  }
  return current;
}

/**
 * Reads the site router's CPU load every `intervalMs` while the scan runs and slows the
 * scanner's connect rate when it passes the ceiling, recovering step by step once it falls back
 * under it. Each change is a run event and an entry of the run's notes (the report's
 * `connect_rate`). A router that cannot be read leaves the rate where it is, said once per run.
 */
export function startPolite(ctx: RunContext, deps: PoliteDeps): { stop(): Promise<void> } {
  const { rate, reader, settings } = deps;
  const clock = deps.clock ?? realClock;
  const ended = new AbortController();
  const signal = AbortSignal.any([ctx.signal, ended.signal]);
  const configured = rate.perSecond;
  const previous = ctx.scans.notes(ctx.scan.id).connect_rate;
  // A resumed run keeps the changes it made before the restart.
  const notes: ConnectRateNotes = {
    configured,
    ceiling_percent: settings.ceilingPercent,
    changes: previous?.changes ?? [],
    unreadable: previous?.unreadable ?? null,
  };
  ctx.scans.addNotes(ctx.scan.id, { connect_rate: notes });
  let recoverTo = configured;
  let said = false;
  let lastAt = clock.nowMs();
  let lastPassed = rate.passed;

  const apply = (load: number) => {
    const now = clock.nowMs();
    const measured = Math.round(((rate.passed - lastPassed) * 1000) / Math.max(1, now - lastAt));
    lastAt = now;
    lastPassed = rate.passed;
    const current = rate.perSecond;
    const after = nextRate({ current, configured, measured, recoverTo }, load, settings);
    if (after === current) return;
    const slowing = load > settings.ceilingPercent;
    // With no limit set, "before" is what the scanner was doing; the first slowdown sets where recovery stops.
    const before = current > 0 ? current : measured;
    if (slowing && current <= 0) recoverTo = Math.max(before, settings.minConnectsPerSecond);
    rate.setRate(after);
    const change: ConnectRateChange = { at: ctx.now(), cpu_load: load, rate_before: before, rate_after: after };
    notes.changes.push(change);
    ctx.scans.addNotes(ctx.scan.id, { connect_rate: notes });
    const end = after === configured ? ', as configured' : slowing ? '' : ' (recovering)';
    ctx.event(
      `Router CPU ${load} % ${slowing ? '>' : '<'} ${settings.ceilingPercent} %: connect rate ${current > 0 ? rateText(before) : `${before}/s measured`} → ${rateText(after)}${end}`,
      slowing ? 'warning' : 'info',
    );
  };

  /** Said once: a router that cannot be read every few seconds would otherwise fill the run's events. */
  const unreadable = (error: unknown) => {
    if (said) return;
    said = true;
    const reason = error instanceof Error ? error.message : String(error);
    notes.unreadable = reason;
    ctx.scans.addNotes(ctx.scan.id, { connect_rate: notes });
    ctx.event(`Router CPU load could not be read (${reason}): connect rate left at ${rateText(rate.perSecond)}`, 'warning');
  };

  const loop = (async () => {
    while (!signal.aborted) {
      await clock.sleep(settings.intervalMs, signal);
      if (signal.aborted) break;
      try {
        let load: number;
        try {
          load = await reader.read(signal);
        } catch (error) {
          if (signal.aborted) break;
          unreadable(error);
          continue;
        }
        apply(load);
      } catch (error) {
        // A write that failed (a full disk) ends the run elsewhere; the loop must not reject unheard.
        ctx.log.warn({ err: error }, 'connect rate change not recorded');
      }
    }
  })();

  return {
    async stop() {
      ended.abort();
      await loop;
      reader.close();
    },
  };
}

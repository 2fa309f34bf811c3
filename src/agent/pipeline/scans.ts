import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { Clock } from '../../shared/clock.js';
import { utcIso } from '../../shared/clock.js';
import type { Db } from '../../shared/sqlite.js';
import { MarksRepository } from './marks.js';
import { ReportBuilder, type ScanReport } from './report.js';
import { StopRequest, WindowClosed } from './runner/outcome.js';
import type { RunOptions } from './runner/run.js';
import { windowState, type ScanWindow } from '../../shared/schedule/window.js';
import { renderInZone } from '../../shared/schedule/zone-time.js';
import { ScanRepository, type NewScan } from './scan-repository.js';
import { scanKeyOf, scanLabelOf, type ScanRef } from '../../shared/scan-label.js';
import type { ScanRow } from './scan-types.js';
import { scopeProblem, toNewScan, type ScanSpec } from './spec.js';
import { StorageUnavailable, type StorageGate } from '../storage-health.js';

/**
 * This site's scans, whatever started them. Every source (scheduler slot, control-plane command,
 * CLI) builds a ScanSpec with its adapter and hands it here.
 */
export interface Scans {
  /**
   * Creates the run (queued) and starts it. A spec out of scope throws AGENT_ERR_SCAN_OUT_OF_SCOPE
   * before anything is stored or sent (the adapters check scopeProblem first). A command whose
   * sub-scan already has a run here gets that run back (duplicate) and starts nothing.
   */
  start(spec: ScanSpec, options?: StartOptions): StartedScan;
  /**
   * Records a run that will not happen (out of scope, an expired command) as failed with `reason`,
   * in one transaction with its reports, so the control plane closes that part. Nothing is sent on
   * the network. A command whose sub-scan already has a run here gets that run back.
   */
  refuse(spec: ScanSpec, reason: string, options?: Pick<StartOptions, 'commit'>): ScanRow;
  /** A stop request: the run ends partial (hosts kept) or failed. False if it does not run here. */
  stop(scanId: string): boolean;
  /** At start: resumes what a kill left running, closes what is too old to resume; a paused run waits for its window. */
  resumeUnfinished(): ScanRow[];
  get(scanId: string): ScanRow | undefined;
  /** Newest first. */
  list(filter?: ScanFilter): ScanRow[];
  report(scanId: string): ScanReport | undefined;
  /** The runs a reference names (a run or control-plane scan UUID, or a label), newest first. */
  find(ref: ScanRef): ScanRow[];
}

export interface StartOptions {
  /** Wraps the row's creation, e.g. in the transaction that records an uplink command as applied. */
  commit?: <T>(write: () => T) => T;
  /** Aborting it pauses the run (like the module's shutdown): it resumes at the next start. */
  signal?: AbortSignal;
}

export interface StartedScan {
  scan: ScanRow;
  /** The run's end: its row once completed, partial, failed, or paused. */
  done: Promise<ScanRow>;
  duplicate: boolean;
}

export interface ScanFilter {
  scheduleId?: string;
  /** Only those queued, scanning or paused. */
  active?: boolean;
  limit?: number;
}

/** What runs a stored scan: the scanner, the router, the CVE matcher. Loaded on the first run. */
export interface ScanEngine {
  run(scanId: string, signal: AbortSignal, options?: RunOptions): Promise<ScanRow>;
  close(): void;
}

/** What the composition root holds: the interface, plus its lifecycle. */
export interface ScansModule extends Scans {
  /** Resolves once every run going now has ended (paused by the shutdown, or finished). */
  idle(): Promise<void>;
  /** The config of the engine changed: the next run gets a new one; the old one closes when its runs end. */
  refreshEngine(): void;
  /** Waits for the runs, then closes the engine. */
  close(): Promise<void>;
  /**
   * Compares every windowed run with its window at the clock's now: a running one whose window
   * closed pauses at a host boundary, a paused one whose window opened resumes. A timer calls it
   * every `windowTickMs`; tests call it after moving their clock.
   */
  checkWindows(): void;
}

/** A schedule's window and zone, for the runs it governs. */
export interface RunWindow {
  window: ScanWindow;
  zone: string;
}

export interface ScansDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  siteId: string;
  /** Aborted when the agent stops: every run pauses, and resumes at the next start. */
  shutdown?: AbortSignal;
  /** A scan left unfinished by a kill is resumed if its last checkpoint is younger than this, else closed. */
  resumeWithinMs?: number;
  engine: () => Promise<ScanEngine>;
  /**
   * While it says storage is failing no scan starts (start throws StorageUnavailable); a run cut
   * short by a write failing on a full disk stays scanning, and every such run resumes when it
   * recovers.
   */
  storage?: StorageGate;
  /**
   * The window a run keeps to, or null (always open). The slot runs of a windowed schedule keep to
   * it; scans asked for (invoke, single IP, CLI) run when asked.
   */
  windowOf?: (scan: ScanRow) => RunWindow | null;
  /** How often the windows are checked against the clock (default 5 s). */
  windowTickMs?: number;
}

/** A new row with its id and the label both sides derive from the scan's key (src/shared/scan-label.ts). */
function labelled(scan: Omit<NewScan, 'label'>): NewScan & { id: string } {
  const id = randomUUID();
  return { ...scan, id, label: scanLabelOf(scanKeyOf({ ...scan, run_id: id })) };
}

export function createScans(deps: ScansDeps): ScansModule {
  const repo = new ScanRepository(deps.db);
  const reports = new ReportBuilder({ scans: repo, marks: new MarksRepository(deps.db) });
  const log = deps.logger.child({ component: 'scans' });
  const now = () => utcIso(deps.clock.now());
  let engine: Promise<ScanEngine> | undefined;
  let stale = false;

  function currentEngine(): Promise<ScanEngine> {
    if (stale && engine) {
      const old = engine;
      engine = undefined;
      stale = false;
      const running = [...active.values()].map((scan) => scan.done);
      void Promise.allSettled(running)
        .then(() => old)
        .then((opened) => opened.close())
        .catch(() => undefined);
    }
    engine ??= deps.engine();
    return engine;
  }

  /** A run going now: its controller (stop, shutdown), and while probing the drain its window closes. */
  interface ActiveRun {
    controller: AbortController;
    done: Promise<ScanRow>;
    drain?: AbortController;
    /** Set while it waits, paused, for its window: wakes it. */
    wake?: () => void;
  }
  const active = new Map<string, ActiveRun>();
  let windowTimer: NodeJS.Timeout | undefined;

  /** The window's state for a run now, or undefined when the run keeps to no window. */
  function windowNow(scan: ScanRow): (ReturnType<typeof windowState> & RunWindow) | undefined {
    const governing = deps.windowOf?.(scan) ?? null;
    if (governing === null) return undefined;
    return { ...governing, ...windowState(governing.window, governing.zone, deps.clock.now()) };
  }

  function closedUntil(scan: ScanRow): WindowClosed | undefined {
    const state = windowNow(scan);
    if (state === undefined || state.open) return undefined;
    const opens = state.nextOpen as Date;
    return new WindowClosed(opens, renderInZone(opens, state.zone));
  }

  /** The timer runs only while some run keeps to a window. */
  function armWindowTimer(): void {
    if (windowTimer !== undefined || deps.windowOf === undefined) return;
    windowTimer = setInterval(() => {
      try {
        module.checkWindows();
      } catch (error) {
        log.error({ err: error }, 'scan windows not checked');
      }
    }, deps.windowTickMs ?? 5000);
    windowTimer.unref();
  }

  /** Resolves once the run's window opens (checkWindows wakes it); rejects when its controller aborts. */
  function opening(entry: ActiveRun): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { signal } = entry.controller;
      const onAbort = () => {
        entry.wake = undefined;
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      entry.wake = () => {
        entry.wake = undefined;
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  /**
   * Runs a stored scan until it ends; the shutdown or `signal` pauses it (it resumes at the next
   * start), stop() ends it. A run that keeps to a closed window waits, paused, for the opening,
   * and goes on from its stored hosts; `done` resolves only at its end (or the shutdown).
   */
  async function runThroughWindows(scanId: string, entry: ActiveRun): Promise<ScanRow> {
    const { controller } = entry;
    let reopened = false;
    for (;;) {
      const scan = repo.get(scanId) as ScanRow;
      const closed = closedUntil(scan);
      if (closed !== undefined) {
        if (scan.paused_until !== closed.resumesAt.toISOString()) repo.pause(scanId, closed.resumesAt.toISOString(), closed.message, now());
        log.info({ scan_id: scanId, resumes_at: closed.resumesAt.toISOString() }, 'scan paused until its window opens');
        try {
          await opening(entry);
        } catch {
          if (!(controller.signal.reason instanceof StopRequest)) return repo.get(scanId) as ScanRow;
          // Stopped while paused: ends like any stopped run, with the hosts it kept.
          const kept = repo.hostsByState(scanId, 'done').length;
          repo.event(scanId, 'warning', `Scan stopped on request while paused; ${kept} hosts done were kept`, now());
          repo.finish(scanId, kept > 0 ? 'partial' : 'failed', 'stopped on request', now());
          return repo.get(scanId) as ScanRow;
        }
        reopened = true;
        continue;
      }
      // Every run gets one: a window added to its schedule while it runs applies at the next check.
      const drain = new AbortController();
      entry.drain = drain;
      let opened: ScanEngine;
      try {
        opened = await currentEngine();
      } catch (error) {
        // Without an engine nothing was sent: the run ends failed, and says why; the next run tries again.
        engine = undefined;
        const message = `the scanner could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
        log.error({ err: error, scan_id: scanId }, message);
        repo.event(scanId, 'error', message, now());
        repo.finish(scanId, 'failed', message, now());
        return repo.get(scanId) as ScanRow;
      }
      const result = await opened.run(scanId, controller.signal, { drain: drain.signal, reopened });
      entry.drain = undefined;
      if (result.status !== 'paused' || controller.signal.aborted) return result;
    }
  }

  function launch(scanId: string, signal?: AbortSignal): Promise<ScanRow> {
    const existing = active.get(scanId);
    if (existing) return existing.done;
    const controller = new AbortController();
    const pauses = [deps.shutdown, signal].filter((s): s is AbortSignal => s !== undefined);
    const listeners = pauses.map((s) => {
      const onAbort = () => controller.abort(s.reason);
      if (s.aborted) onAbort();
      else s.addEventListener('abort', onAbort, { once: true });
      return () => s.removeEventListener('abort', onAbort);
    });
    const entry: ActiveRun = { controller, done: Promise.resolve(undefined as unknown as ScanRow) };
    if (deps.windowOf) armWindowTimer();
    entry.done = runThroughWindows(scanId, entry)
      .catch((error: unknown) => {
        if (deps.storage?.failed(error, `scan ${scanId}`) === true) {
          log.warn({ scan_id: scanId }, 'scan paused: storage is failing; it resumes when storage recovers');
          throw new StorageUnavailable(deps.storage.state);
        }
        throw error;
      })
      .finally(() => {
        for (const remove of listeners) remove();
        active.delete(scanId);
        if (active.size === 0 && windowTimer !== undefined) {
          clearInterval(windowTimer);
          windowTimer = undefined;
        }
      });
    active.set(scanId, entry);
    return entry.done;
  }

  // Storage is back: the runs a full disk cut short (still scanning) go on from their stored hosts.
  deps.storage?.onChange((state) => {
    if (state.failing || deps.shutdown?.aborted) return;
    try {
      const resumed = module.resumeUnfinished();
      if (resumed.length > 0) log.info({ scans: resumed.map((scan) => scan.id) }, 'storage recovered: paused scans resumed');
    } catch (error) {
      if (deps.storage?.failed(error, 'resume scans') !== true) log.error({ err: error }, 'paused scans could not be resumed');
    }
  });

  function existingRun(spec: ScanSpec): ScanRow | undefined {
    return spec.origin.kind === 'command' ? repo.byCpSubScan(spec.origin.cpSubScanId) : undefined;
  }

  const module: ScansModule = {
    start(spec, options = {}) {
      const problem = scopeProblem(spec);
      if (problem !== undefined) throw new AgentError('AGENT_ERR_SCAN_OUT_OF_SCOPE', problem);
      if (deps.storage?.failing === true) throw new StorageUnavailable(deps.storage.state);
      const existing = existingRun(spec);
      if (existing) return { scan: existing, done: active.get(existing.id)?.done ?? Promise.resolve(existing), duplicate: true };
      const commit = options.commit ?? ((write) => write());
      const scan = commit(() => repo.create(labelled(toNewScan(spec)), now()));
      return { scan, done: launch(scan.id, options.signal), duplicate: false };
    },

    refuse(spec, reason, options = {}) {
      const existing = existingRun(spec);
      if (existing) return existing;
      const commit = options.commit ?? ((write) => write());
      const scan = commit(() => repo.createRefused(labelled(toNewScan(spec)), reason, now()));
      log.warn({ scan_id: scan.id, reason }, 'scan refused');
      return scan;
    },

    stop(scanId) {
      const scan = active.get(scanId);
      if (!scan) return false;
      repo.requestStop(scanId, now());
      scan.controller.abort(new StopRequest());
      return true;
    },

    resumeUnfinished() {
      if (!repo.hasUnfinished()) return [];
      const resumed: ScanRow[] = [];
      const maxAge = deps.resumeWithinMs ?? 6 * 3600_000;
      for (const scan of repo.unfinished()) {
        if (active.has(scan.id)) continue;
        const last = Date.parse(scan.checkpoint_at ?? scan.created_at);
        // A paused run waits for its window however long ago it paused.
        if (scan.paused_until === null && deps.clock.now().getTime() - last > maxAge) {
          repo.event(scan.id, 'error', `Agent was down since ${scan.checkpoint_at ?? scan.created_at}: too long ago to resume`, now());
          repo.finish(scan.id, repo.hostsByState(scan.id, 'done').length > 0 ? 'partial' : 'failed', 'agent restarted; scan too old to resume', now());
          log.warn({ scan_id: scan.id }, 'unfinished scan too old to resume; closed');
          continue;
        }
        log.info({ scan_id: scan.id, paused_until: scan.paused_until }, 'resuming unfinished scan');
        resumed.push(scan);
        void launch(scan.id).catch((error: unknown) => log.error({ err: error, scan_id: scan.id }, 'resumed scan failed'));
      }
      return resumed;
    },

    get: (scanId) => repo.get(scanId),

    find(ref) {
      return repo.find(ref);
    },

    list(filter = {}) {
      const rows = repo.list({ scheduleId: filter.scheduleId, limit: filter.limit });
      return filter.active ? rows.filter((scan) => scan.status === 'queued' || scan.status === 'scanning' || scan.status === 'paused') : rows;
    },

    report: (scanId) => reports.build(scanId, now()),

    checkWindows() {
      for (const [scanId, entry] of active) {
        const scan = repo.get(scanId);
        if (scan === undefined) continue;
        if (entry.wake !== undefined) {
          if (closedUntil(scan) === undefined) entry.wake();
        } else if (entry.drain !== undefined && !entry.drain.signal.aborted) {
          const closed = closedUntil(scan);
          if (closed !== undefined) {
            log.info({ scan_id: scanId, resumes_at: closed.resumesAt.toISOString() }, 'window closed: the scan pauses once its hosts in flight finish');
            entry.drain.abort(closed);
          }
        }
      }
    },

    async idle() {
      await Promise.allSettled([...active.values()].map((scan) => scan.done));
    },

    refreshEngine() {
      stale = true;
    },

    async close() {
      await module.idle();
      const opened = engine;
      engine = undefined;
      if (opened) (await opened.catch(() => undefined))?.close();
    },
  };
  return module;
}

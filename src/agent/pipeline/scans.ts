import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { Clock } from '../../shared/clock.js';
import { utcIso } from '../../shared/clock.js';
import type { Db } from '../../shared/sqlite.js';
import { MarksRepository } from './marks.js';
import { ReportBuilder, type ScanReport } from './report.js';
import { StopRequest } from './runner/outcome.js';
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
  /** At start: resumes what a kill left running, closes what is too old to resume. */
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
  /** Only those queued or scanning. */
  active?: boolean;
  limit?: number;
}

/** What runs a stored scan: the scanner, the router, the CVE matcher. Loaded on the first run. */
export interface ScanEngine {
  run(scanId: string, signal: AbortSignal): Promise<ScanRow>;
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
}

/** A new row with its id and the label both sides derive from the scan's key (src/shared/scan-label.ts). */
function labelled(scan: Omit<NewScan, 'label'>): NewScan & { id: string } {
  const id = randomUUID();
  return { ...scan, id, label: scanLabelOf(scanKeyOf({ ...scan, run_id: id })) };
}

export function createScans(deps: ScansDeps): ScansModule {
  const repo = new ScanRepository(deps.db);
  const reports = new ReportBuilder({ scans: repo, marks: new MarksRepository(deps.db) });
  const active = new Map<string, { controller: AbortController; done: Promise<ScanRow> }>();
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

  /** Runs a stored scan; the shutdown or `signal` pauses it, stop() ends it. */
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
    const done = currentEngine()
      .then(
        (opened) => opened.run(scanId, controller.signal),
        (error: unknown) => {
          // Without an engine nothing was sent: the run ends failed, and says why; the next run tries again.
          engine = undefined;
          const message = `the scanner could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
          log.error({ err: error, scan_id: scanId }, message);
          repo.event(scanId, 'error', message, now());
          repo.finish(scanId, 'failed', message, now());
          return repo.get(scanId) as ScanRow;
        },
      )
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
      });
    active.set(scanId, { controller, done });
    return done;
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
        if (deps.clock.now().getTime() - last > maxAge) {
          repo.event(scan.id, 'error', `Agent was down since ${scan.checkpoint_at ?? scan.created_at}: too long ago to resume`, now());
          repo.finish(scan.id, repo.hostsByState(scan.id, 'done').length > 0 ? 'partial' : 'failed', 'agent restarted; scan too old to resume', now());
          log.warn({ scan_id: scan.id }, 'unfinished scan too old to resume; closed');
          continue;
        }
        log.info({ scan_id: scan.id }, 'resuming unfinished scan');
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
      return filter.active ? rows.filter((scan) => scan.status === 'queued' || scan.status === 'scanning') : rows;
    },

    report: (scanId) => reports.build(scanId, now()),

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

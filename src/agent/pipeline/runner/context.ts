import type { Logger } from 'pino';
import type { Clock } from '../../../shared/clock.js';
import { utcIso } from '../../../shared/clock.js';
import { linkedSignal } from '../../scan/session.js';
import type { ScanRepository } from '../scan-repository.js';
import type { ScanRow } from '../scan-types.js';

export type Stage = 'inventory' | 'discovery' | 'hosts' | 'router';

/** Milliseconds per stage; cve and storage are the parts of `hosts` spent matching and writing. */
export interface StageTimings {
  inventory: number;
  discovery: number;
  hosts: number;
  cve: number;
  storage: number;
  router: number;
  total: number;
  findings: number;
}

/** Progress bands of the stages, so the percent only moves forward. */
const bands = { inventory: [0, 5], discovery: [5, 15], hosts: [15, 95], router: [95, 99] } as const;
const band = (stage: Stage, share: number) => bands[stage][0] + (bands[stage][1] - bands[stage][0]) * Math.min(1, Math.max(0, share));

/** What every stage of one run shares: the row, its log, its signal, and how it tells of itself. */
export interface RunContext {
  readonly scan: ScanRow;
  readonly scans: ScanRepository;
  readonly log: Logger;
  /** Linked to the caller's: aborted by a stop or a shutdown. */
  readonly signal: AbortSignal;
  /** The caller's: its reason tells a stop request from a shutdown. */
  readonly callerSignal: AbortSignal;
  /**
   * Aborted (with a WindowClosed) when the schedule's scan window closes: no new host starts, the
   * ones in flight finish, and the run pauses. Never aborted for a scan without a window.
   */
  readonly drain: AbortSignal;
  readonly timings: StageTimings;
  /** Ends the run from inside (a write that failed on a full disk, from a timer): `signal` aborts with `reason`. */
  halt(reason: unknown): void;
  now(): string;
  /** Stored, reported to the control plane and logged. */
  event(message: string, level?: 'info' | 'warning' | 'error'): void;
  progress(stage: Stage, share: number, hostsTotal: number | null, hostsDone: number): void;
  /** Ends the stage's clock. */
  lap(stage: Stage): void;
  timed<T>(part: 'cve' | 'storage', work: () => T): T;
  close(): void;
}

export function openRunContext(
  scan: ScanRow,
  deps: { scans: ScanRepository; clock: Clock; logger: Logger },
  callerSignal: AbortSignal,
  drain: AbortSignal = new AbortController().signal,
): RunContext {
  const { scans } = deps;
  const now = () => utcIso(deps.clock.now());
  const log = deps.logger.child({ component: 'pipeline', scan_id: scan.id, label: scan.label });
  const halted = new AbortController();
  const { signal, unlink } = linkedSignal(AbortSignal.any([callerSignal, halted.signal]));
  // A resumed run (after a restart or a pause) goes on from where it was: its percent never goes back.
  let highest = scan.progress;
  let lastReported = scan.progress > 0 ? scan.progress : -10;
  const timings: StageTimings = { inventory: 0, discovery: 0, hosts: 0, cve: 0, storage: 0, router: 0, total: 0, findings: 0 };
  const startedAt = performance.now();
  let stageAt = startedAt;
  return {
    scan,
    scans,
    log,
    signal,
    callerSignal,
    drain,
    timings,
    halt: (reason) => halted.abort(reason),
    now,
    event(message, level = 'info') {
      scans.event(scan.id, level, message, now());
      log[level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'info']({ event: message }, 'scan event');
    },
    progress(stage, share, hostsTotal, hostsDone) {
      const percent = Math.max(highest, Math.floor(band(stage, share)));
      highest = percent;
      // Every percent is stored; the control plane hears of every fifth, so a /22 does not flood the outbox.
      const report = percent - lastReported >= 5;
      if (report) lastReported = percent;
      scans.progress(scan.id, { progress: percent, stage, hosts_total: hostsTotal, hosts_done: hostsDone }, now(), report);
    },
    lap(stage) {
      const at = performance.now();
      timings[stage] += at - stageAt;
      stageAt = at;
      timings.total = at - startedAt;
    },
    timed(part, work) {
      const at = performance.now();
      try {
        return work();
      } finally {
        timings[part] += performance.now() - at;
      }
    },
    close: unlink,
  };
}

/** Marks the run scanning (a row already scanning is a resume after a kill or a pause) and says what it covers. */
export function beginRun(ctx: RunContext, reopened = false): { siteWide: boolean; targets: string[] } {
  const { scan, scans } = ctx;
  // A paused run that had begun is stored scanning too; one paused before it began (its slot fired in closed hours) is queued.
  const resumed = scan.status === 'scanning' || (scan.status === 'paused' && scan.started_at !== null);
  scans.start(scan.id, ctx.now());
  const done = () => scans.hostsByState(scan.id, 'done').length;
  ctx.event(
    reopened && resumed
      ? `Window open: resuming scan (${done()} hosts already done)`
      : resumed
        ? `Resuming scan after a restart (${done()} hosts already done)`
        : `Scan started: ${scan.target_ips ? scan.target_ips.join(', ') : scan.subnets.join(', ')}`,
  );
  return { siteWide: scan.target_ips === null, targets: scan.target_ips ? scan.target_ips.map((ip) => `${ip}/32`) : scan.subnets };
}

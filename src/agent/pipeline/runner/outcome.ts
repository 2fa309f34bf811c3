import type { RunContext } from './context.js';

/** The abort reason of a stop request (API, CLI Ctrl-C): the scan ends partial, unlike a shutdown, which pauses it. */
export class StopRequest extends Error {
  constructor(message = 'stopped on request') {
    super(message);
    this.name = 'StopRequest';
  }
}

/**
 * The drain reason of a run whose schedule's scan window closed: hosts in flight finish, pending
 * ones stay pending (the resume checkpoint), and the run waits, paused, for `resumesAt`.
 */
export class WindowClosed extends Error {
  constructor(
    readonly resumesAt: Date,
    /** The opening in the schedule's zone, as people read it. */
    readonly resumesAtLocal: string,
  ) {
    super(`paused: window closed, resumes at ${resumesAtLocal}`);
    this.name = 'WindowClosed';
  }
}

/** The site cannot be scanned as asked (e.g. its router is offline and the schedule does not allow going on). */
export class SiteFailure extends Error {}

/** How a run that did not complete ends. */
export type RunEnd =
  | { kind: 'paused' }
  | { kind: 'window'; closed: WindowClosed }
  | { kind: 'stopped'; status: 'partial' | 'failed' }
  | { kind: 'site-failure'; message: string }
  | { kind: 'failed'; status: 'partial' | 'failed'; message: string };

/** A shutdown pauses the run; a stop request or an error ends it partial if it kept hosts, else failed. */
export function classifyEnd(error: unknown, callerSignal: AbortSignal, hostsKept: number): RunEnd {
  const status = hostsKept > 0 ? 'partial' : 'failed';
  if (callerSignal.aborted && !(callerSignal.reason instanceof StopRequest)) return { kind: 'paused' };
  if (callerSignal.aborted) return { kind: 'stopped', status };
  if (error instanceof WindowClosed) return { kind: 'window', closed: error };
  if (error instanceof SiteFailure) return { kind: 'site-failure', message: error.message };
  return { kind: 'failed', status, message: error instanceof Error ? error.message : String(error) };
}

/** Every stage ran: the timings, then the end. */
export function completeRun(ctx: RunContext): void {
  const { timings } = ctx;
  const ms = (value: number) => `${Math.round(value)} ms`;
  ctx.event(
    `Stages: inventory ${ms(timings.inventory)}, discovery ${ms(timings.discovery)}, hosts ${ms(timings.hosts)} (CVE matching ${ms(timings.cve)}, storage ${ms(timings.storage)}), router and neighbors ${ms(timings.router)}`,
  );
  ctx.event('Scan completed');
  ctx.scans.finish(ctx.scan.id, 'completed', null, ctx.now());
}

/** Records how a run that did not complete ended; a paused one stays scanning, to resume at the next start. */
export function settleRun(ctx: RunContext, end: RunEnd, error: unknown): void {
  const { scan, scans } = ctx;
  switch (end.kind) {
    case 'paused':
      // The agent is shutting down, not the scan being stopped: leave it to resume at the next start.
      ctx.event('Agent stopping: scan paused, it resumes when the agent starts again', 'warning');
      return;
    case 'window':
      // Stays going, paused: the scans module resumes it at the opening.
      scans.pause(scan.id, end.closed.resumesAt.toISOString(), end.closed.message, ctx.now());
      ctx.log.info({ resumes_at: end.closed.resumesAt.toISOString() }, 'scan paused: its window closed');
      return;
    case 'stopped':
      ctx.event(`Scan stopped on request; ${scans.hostsByState(scan.id, 'done').length} hosts done were kept`, 'warning');
      scans.finish(scan.id, end.status, 'stopped on request', ctx.now());
      return;
    case 'site-failure':
      ctx.event(end.message, 'error');
      scans.finish(scan.id, 'failed', end.message, ctx.now());
      return;
    case 'failed':
      ctx.log.error({ err: error }, 'scan failed');
      ctx.event(`Scan failed: ${end.message}`, 'error');
      scans.finish(scan.id, end.status, end.message, ctx.now());
      return;
  }
}

import type { Logger } from 'pino';
import type { Clock } from '../../../shared/clock.js';
import { isStorageFailure } from '../../../shared/system-errors.js';
import type { CpuLoadReader } from '../../routeros/index.js';
import type { RateClock, RateLimiter } from '../../scan/limits.js';
import { createScanSession } from '../../scan/session.js';
import { defaultScanSettings, type ScanSettings } from '../../scan/settings.js';
import type { CveLookup } from '../cve-findings.js';
import { beginRun, openRunContext } from './context.js';
import { classifyEnd, completeRun, settleRun } from './outcome.js';
import { discoveryStage, type HostWork } from './stage-discovery.js';
import { hostsStage } from './stage-hosts.js';
import { inventoryStage, type InventoryReader } from './stage-inventory.js';
import { startPolite, type PoliteSettings } from './polite.js';
import { routerStage } from './stage-router.js';
import type { ScanRepository } from '../scan-repository.js';
import type { RunNotes, ScanRow } from '../scan-types.js';

export type { InventoryReader } from './stage-inventory.js';

/** How the scans module runs a stored scan beyond its signal. */
export interface RunOptions {
  /** Aborted with a WindowClosed when the schedule's window closes: the run pauses at a host boundary. */
  drain?: AbortSignal;
  /** The run goes on because its window opened again (for its event). */
  reopened?: boolean;
}

export interface ScanRunnerDeps {
  scans: ScanRepository;
  clock: Clock;
  logger: Logger;
  readInventory?: InventoryReader;
  /** Absent when no CVE database is loaded: the scan still finds hosts and services. */
  cve?: CveLookup;
  scanSettings?: Partial<ScanSettings>;
  /** Ports to scan (default: the engine's list). */
  ports?: string;
  udp?: boolean;
  /** The address the agent reaches the router at (config router.host): the router's key when none of its own addresses is in scope. */
  routerHost?: string;
  /** The CVE data's size and age (cve/freshness.ts), noted by each run for its coverage statement. */
  cveData?: () => RunNotes['cve_data'];
  /**
   * The polite scanner: a reader of the site router's CPU load (opened per run, closed at its end)
   * and when to slow down. Absent: the connect rate stays as configured.
   */
  routerLoad?: { open: () => CpuLoadReader; settings: PoliteSettings };
  /** The connect rate's clock (and the load readings'); tests drive it by hand. */
  rateClock?: RateClock;
  /** Handed each run's connect-rate limiter: tests and bench:polite count its connects. */
  watchRate?: (rate: RateLimiter) => void;
}

/**
 * Runs one site's scan: router inventory, discovery, then host by host ports, services and
 * CVEs, each host stored (with its reports) the moment it is done. A stop aborts the signal;
 * what was stored stays. A scan found unfinished at start is resumed: stored hosts are not
 * probed again. Each stage is its own function in runner/.
 */
export function createScanRunner(deps: ScanRunnerDeps) {
  const { scans } = deps;
  const settings: ScanSettings = { ...defaultScanSettings, ...deps.scanSettings };

  async function run(scanId: string, callerSignal: AbortSignal, options: RunOptions = {}): Promise<ScanRow> {
    const scan = scans.get(scanId);
    if (!scan) throw new Error(`no scan ${scanId}`);
    const ctx = openRunContext(scan, deps, callerSignal, options.drain);
    const writes = { flush: () => undefined as void };
    const { siteWide, targets } = beginRun(ctx, options.reopened === true);
    // A window that closes before the hosts are probed pauses the run at that stage's end (the
    // router read and the sweep's checkpoint are kept); during the hosts, at a host boundary.
    const checkDrain = () => {
      if (ctx.drain.aborted) throw ctx.drain.reason;
    };
    try {
      scans.addNotes(scan.id, { cve_data: deps.cve ? deps.cveData?.() : null });
      const router = await inventoryStage(ctx, deps.readInventory, targets);
      checkDrain();
      const session = createScanSession(
        { subnets: targets, knownAlive: router.knownAlive, ports: deps.ports, udp: deps.udp },
        { settings, signal: ctx.signal, emit: () => undefined, logger: ctx.log, rateClock: deps.rateClock },
      );
      deps.watchRate?.(session.rate);
      // The router's load slows the connects of discovery and the hosts; its reader closes with them.
      const polite =
        deps.routerLoad && startPolite(ctx, { rate: session.rate, reader: deps.routerLoad.open(), settings: deps.routerLoad.settings, clock: deps.rateClock });
      let work: HostWork;
      try {
        work = await discoveryStage(ctx, session, router);
        if (work.pending.length > 0) checkDrain();
        await hostsStage(ctx, session, router, work, { cve: deps.cve, hostGroup: settings.hostGroup }, writes);
      } finally {
        await polite?.stop();
      }
      routerStage(ctx, router, work, { cve: deps.cve, routerHost: deps.routerHost }, siteWide || scan.with_router);
      completeRun(ctx);
    } catch (error) {
      // A full or failing disk: the run stops where it is and stays scanning, with the hosts
      // stored so far; the scans module resumes it when storage recovers.
      const storage = [error, ctx.signal.reason].find((cause) => isStorageFailure(cause));
      if (storage !== undefined && !callerSignal.aborted) throw storage;
      writes.flush();
      settleRun(ctx, classifyEnd(error, callerSignal, scans.hostsByState(scan.id, 'done').length), error);
    } finally {
      ctx.close();
    }
    return scans.get(scan.id) as ScanRow;
  }

  return { run };
}

export type ScanRunner = ReturnType<typeof createScanRunner>;

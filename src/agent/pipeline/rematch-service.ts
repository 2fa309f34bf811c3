/**
 * Re-matching wired together: the CVE data watch (cve/data-watch.ts) notices new data, the
 * trigger (rematch-trigger.ts) gathers a burst into one run, and the run is an ordinary scan of
 * origin 're-match' started through the scans module (status, events, report, delta, outbox as
 * for any scan), run by runner/rematch.ts without a packet.
 */
import type { Logger } from 'pino';
import type { Db } from '../../shared/sqlite.js';
import { createCveDataWatch } from '../cve/data-watch.js';
import { MetaRepository } from '../store/meta-repository.js';
import type { UplinkTimers } from '../uplink/timers.js';
import { rematchSpec } from './adapters/rematch.js';
import { createRematchTrigger } from './rematch-trigger.js';
import { ScanRepository } from './scan-repository.js';
import type { Scans } from './scans.js';

/** agent.db's agent_meta key for the cve.db state last acted on. */
export const rematchBaselineKey = 'rematch_cve_data';

export interface RematchServiceDeps {
  db: Db;
  stateDir: string;
  siteId: string;
  scans: () => Scans;
  logger: Logger;
  timers: UplinkTimers;
  /**
   * How often cve.db is looked at (5 s), the quiet time that ends a burst (5 s) and the longest an
   * arrival waits for its run once seen (15 s): a run starts at most 20 s after the data arrived,
   * leaving 40 s of the minute promised for the run itself (npm run bench:rematch).
   */
  intervalMs?: number;
  quietMs?: number;
  maxWaitMs?: number;
}

export interface RematchService {
  start(): void;
  stop(): void;
  /** Looks at cve.db now (tests, and after the uplink applied a delta). */
  check(): void;
  /** Resolves once no re-match is waiting or going. */
  idle(): Promise<void>;
}

export function createRematchService(deps: RematchServiceDeps): RematchService {
  const log = deps.logger.child({ component: 'rematch' });
  const meta = new MetaRepository(deps.db);
  const repo = new ScanRepository(deps.db);
  /** cve.db's state as last noticed: stored as the baseline when the re-match that covers it is recorded. */
  let latestMarks: string | undefined;
  const trigger = createRematchTrigger({
    timers: deps.timers,
    logger: deps.logger,
    quietMs: deps.quietMs ?? 5_000,
    maxWaitMs: deps.maxWaitMs ?? 15_000,
    start(text) {
      const noticed = latestMarks;
      const spec = rematchSpec(repo.latestDevices(), deps.siteId, text);
      if (spec === undefined) {
        if (noticed !== undefined) meta.set(rematchBaselineKey, noticed);
        log.info({ trigger: text }, 'new CVE data, but no stored scan holds a device to re-match');
        return undefined;
      }
      // The data counts as acted on in the transaction that records the run: a crash before it
      // leaves the change to be noticed again at the next start, and one after resumes the run.
      const commit = <T>(write: () => T): T =>
        deps.db.transaction(() => {
          const written = write();
          if (noticed !== undefined) meta.set(rematchBaselineKey, noticed);
          return written;
        })();
      const { scan, done } = deps.scans().start(spec, { commit });
      log.info({ scan_id: scan.id, label: scan.label, trigger: text }, `re-match started: ${text}`);
      return done;
    },
  });
  const watch = createCveDataWatch({
    stateDir: deps.stateDir,
    logger: deps.logger,
    timers: deps.timers,
    intervalMs: deps.intervalMs ?? 5_000,
    baseline: { get: () => meta.get(rematchBaselineKey), set: (value) => meta.set(rematchBaselineKey, value) },
    onChange: (what, marks) => {
      latestMarks = marks;
      trigger.notify(what);
    },
  });
  return {
    start: () => watch.start(),
    stop() {
      watch.stop();
      trigger.stop();
    },
    check: () => void watch.check(),
    idle: () => trigger.idle(),
  };
}

/**
 * The scans module's public face: everything outside pipeline/ imports it from here. One
 * ScanSpec describes a scan whatever started it; each source has a small adapter that builds it.
 *
 *   const scans = openScans({ config: () => config, db, logger, clock, siteId, shutdown });
 *   scheduler job:   slotJob(() => scans, siteId)
 *   uplink command:  const spec = commandSpec(command, siteId, stored); scopeProblem(spec) ? scans.refuse(spec, why) : scans.start(spec)
 *   CLI:             scans.start(cliSpec(schedule, siteId, ips)).done
 *
 * Creating, refusing, listing and reporting load none of the scanner; the engine (scanner,
 * router, cve.db) is loaded on the first run.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/load.js';
import type { Clock } from '../../shared/clock.js';
import type { Db } from '../../shared/sqlite.js';
import type { EngineOverrides } from './engine.js';
import { createScans, type ScansModule } from './scans.js';
import type { StorageGate } from '../storage-health.js';
import { SchedulesRepository } from '../store/schedules-repository.js';

export {
  createScans,
  type RunWindow,
  type ScanEngine,
  type ScanFilter,
  type Scans,
  type ScansDeps,
  type ScansModule,
  type StartedScan,
  type StartOptions,
} from './scans.js';
export { kindOf, scopeProblem, subnetsOfSite, thresholdsOf, toNewScan, type ScanOrigin, type ScanScope, type ScanSpec, type ScanThresholds } from './spec.js';
export { slotJob, slotSpec } from './adapters/slot.js';
export { commandSpec } from './adapters/command.js';
export { cliSpec } from './adapters/cli.js';
export { rematchSpec } from './adapters/rematch.js';
export { createRematchService, type RematchService } from './rematch-service.js';
export { ScanRepository, type StoredDevice } from './scan-repository.js';
export { watchSpec } from './adapters/watch.js';
export type { EngineOverrides } from './engine.js';
export { MarksRepository, type VulnMark, type AppliedMark, type MarkStatus } from './marks.js';
export { parseMarkInput } from './mark-input.js';
export { reportCsv, type ScanReport } from './report.js';
export type { HostRecord, ScanKind, ScanRow, ScanStatus, ServiceRecord } from './scan-types.js';

/** The scans of this site wired to the real engine, built from the config current when the first run needs it. */
export function openScans(deps: {
  config: () => AgentConfig;
  db: Db;
  logger: Logger;
  clock: Clock;
  siteId: string;
  shutdown?: AbortSignal;
  overrides?: EngineOverrides;
  storage?: StorageGate;
  windowTickMs?: number;
}): ScansModule {
  const schedules = new SchedulesRepository(deps.db);
  return createScans({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    siteId: deps.siteId,
    shutdown: deps.shutdown,
    resumeWithinMs: deps.config().scan.resume_within,
    storage: deps.storage,
    // A slot run keeps to its schedule's window, as the schedule says now (an edit applies at the next check).
    windowOf: (scan) => {
      if (scan.kind !== 'schedule' || scan.schedule_id === null) return null;
      const schedule = schedules.get(scan.schedule_id);
      return schedule?.window ? { window: schedule.window, zone: schedule.timezone } : null;
    },
    windowTickMs: deps.windowTickMs,
    engine: async () => {
      const { openScanEngine } = await import('./engine.js');
      return openScanEngine({ config: deps.config(), db: deps.db, logger: deps.logger, clock: deps.clock, overrides: deps.overrides });
    },
  });
}

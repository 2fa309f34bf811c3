import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { ScheduledJob } from '../schedule/scheduler.js';
import type { Clock } from '../../shared/clock.js';
import { utcIso } from '../../shared/clock.js';
import type { StoredSchedule } from '../store/schedules-repository.js';
import type { Db } from '../../shared/sqlite.js';
import type { ScanSettings } from '../scan/settings.js';
import type { CveLookup } from './cve-findings.js';
import { MarksRepository } from './marks.js';
import { ReportBuilder } from './report.js';
import { ScanRepository } from './scan-repository.js';
import { createScanRunner, type InventoryReader } from './runner/run.js';
import { StopRequest } from './runner/outcome.js';
import { scanLabel } from './scan-runner.js';
import { inScope } from '../../shared/ipv4.js';
import type { ScanKind, ScanRow } from './scan-types.js';

export interface SiteScansDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  siteId: string;
  readInventory?: InventoryReader;
  cve?: CveLookup;
  scanSettings?: Partial<ScanSettings>;
  ports?: string;
  udp?: boolean;
  /** A scan left unfinished by a kill is resumed if its last checkpoint is younger than this, else closed as failed. */
  resumeWithinMs?: number;
}

interface ActiveScan {
  controller: AbortController;
  done: Promise<ScanRow>;
}

export interface StartOptions {
  kind?: ScanKind;
  slotAt?: string | null;
  targetIps?: string[] | null;
  cpScanId?: string | null;
  cpSubScanId?: string | null;
}

/**
 * This site's scans: creates them from a schedule (its subnets for this site only), runs them,
 * stops them, resumes what a kill left behind, and builds reports.
 */
export function createSiteScans(deps: SiteScansDeps) {
  const scans = new ScanRepository(deps.db);
  const marks = new MarksRepository(deps.db);
  const reports = new ReportBuilder({ scans, marks });
  const runner = createScanRunner({
    scans,
    clock: deps.clock,
    logger: deps.logger,
    readInventory: deps.readInventory,
    cve: deps.cve,
    scanSettings: deps.scanSettings,
    ports: deps.ports,
    udp: deps.udp,
  });
  const active = new Map<string, ActiveScan>();
  const log = deps.logger.child({ component: 'site-scans' });
  const now = () => utcIso(deps.clock.now());

  function subnetsOf(schedule: StoredSchedule): string[] {
    return schedule.sites.filter((site) => site.id === deps.siteId).map((site) => site.subnet);
  }

  /** Creates the scan (queued); a target outside this site's subnets of the schedule is refused before any packet. */
  function create(schedule: StoredSchedule, options: StartOptions = {}): ScanRow {
    const subnets = subnetsOf(schedule);
    if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `schedule ${schedule.id} names no subnet of this site (${deps.siteId})`);
    const targetIps = options.targetIps ?? null;
    const scan = {
      kind: options.kind ?? (targetIps === null ? 'schedule' : targetIps.length === 1 ? 'single_ip' : 'multiple_ips'),
      schedule_id: schedule.id,
      slot_at: options.slotAt ?? null,
      cp_scan_id: options.cpScanId ?? null,
      cp_sub_scan_id: options.cpSubScanId ?? null,
      site_id: deps.siteId,
      subnets,
      target_ips: targetIps,
      min_cvss: schedule.min_cvss,
      warning_threshold: schedule.warning_threshold,
      ignore_offline_sites: schedule.ignore_offline_sites,
    };
    for (const ip of scan.target_ips ?? []) {
      if (!inScope(ip, scan.subnets))
        throw new AgentError(
          'AGENT_ERR_SCAN_OUT_OF_SCOPE',
          `${ip} is outside the schedule's subnets for this site (${scan.subnets.join(', ')}); nothing was sent`,
        );
    }
    return scans.create({ ...scan, label: scanLabel() }, now());
  }

  /** Runs a created scan; `shutdown` pauses it (it resumes at the next start), stop() ends it partial. */
  function run(scanId: string, shutdown?: AbortSignal): Promise<ScanRow> {
    const existing = active.get(scanId);
    if (existing) return existing.done;
    const controller = new AbortController();
    const onShutdown = () => controller.abort(shutdown?.reason);
    shutdown?.addEventListener('abort', onShutdown, { once: true });
    const done = runner.run(scanId, controller.signal).finally(() => {
      shutdown?.removeEventListener('abort', onShutdown);
      active.delete(scanId);
    });
    active.set(scanId, { controller, done });
    return done;
  }

  function stop(scanId: string): boolean {
    const scan = active.get(scanId);
    if (!scan) return false;
    scans.requestStop(scanId, now());
    scan.controller.abort(new StopRequest());
    return true;
  }

  /** At start: resume scans a kill or power cut left running, or close them if they are too old. */
  function resumeUnfinished(shutdown: AbortSignal): ScanRow[] {
    const resumed: ScanRow[] = [];
    const maxAge = deps.resumeWithinMs ?? 6 * 3600_000;
    for (const scan of scans.unfinished()) {
      const last = Date.parse(scan.checkpoint_at ?? scan.created_at);
      if (deps.clock.now().getTime() - last > maxAge) {
        scans.event(scan.id, 'error', `Agent was down since ${scan.checkpoint_at ?? scan.created_at}: too long ago to resume`, now());
        scans.finish(scan.id, scans.hostsByState(scan.id, 'done').length > 0 ? 'partial' : 'failed', 'agent restarted; scan too old to resume', now());
        log.warn({ scan_id: scan.id }, 'unfinished scan too old to resume; closed');
        continue;
      }
      log.info({ scan_id: scan.id }, 'resuming unfinished scan');
      resumed.push(scan);
      void run(scan.id, shutdown).catch((error: unknown) => log.error({ err: error, scan_id: scan.id }, 'resumed scan failed'));
    }
    return resumed;
  }

  /** The scheduler's job: one scan of this site's part of the schedule. */
  const job: ScheduledJob = async ({ schedule, run: slot, signal }) => {
    const scan = create(schedule, { slotAt: slot.slot_at });
    const result = await run(scan.id, signal);
    if (result.status === 'failed') throw new Error(result.error ?? 'scan failed');
  };

  return {
    scans,
    marks,
    reports,
    create,
    run,
    stop,
    resumeUnfinished,
    job,
    activeCount: () => active.size,
    async idle(): Promise<void> {
      await Promise.allSettled([...active.values()].map((scan) => scan.done));
    },
  };
}

export type SiteScans = ReturnType<typeof createSiteScans>;

/**
 * What each command of the control plane does to this agent: schedules stored and armed like
 * local ones (origin 'control_plane'), scans created with the control plane's ids and run, stops,
 * accepted/mitigated marks, CVE feed files. Every handler is safe to run twice.
 */
import type { Logger } from 'pino';
import type { FeedFile, ScanInvoke, ScanIps, ScanStop, ScheduleDelete, ScheduleUpsert, VulnMark } from '../../protocol/index.js';
import { AgentError } from '../errors.js';
import { MarksRepository } from '../pipeline/marks.js';
import type { SiteScans } from '../pipeline/site-scans.js';
import { type Clock, utcIso } from '../../shared/clock.js';
import { computeNextScanAt, type ScheduleService } from '../schedule/schedule-service.js';
import type { Db } from '../../shared/sqlite.js';
import type { SchedulesRepository, StoredSchedule } from '../store/schedules-repository.js';
import type { CommandContext, CommandHandlers } from './command-dispatcher.js';
import type { FeedTransfers } from './feed-transfers.js';

export interface CommandHandlerDeps {
  db: Db;
  siteId: string;
  clock: Clock;
  logger: Logger;
  scheduleService: ScheduleService;
  schedules: SchedulesRepository;
  siteScans: () => Promise<SiteScans>;
  feeds: FeedTransfers;
  /** Aborted when the agent stops: an invoked scan pauses and resumes at the next start. */
  shutdown: AbortSignal;
}

export function createCommandHandlers(deps: CommandHandlerDeps): CommandHandlers {
  const log = deps.logger.child({ component: 'uplink-commands' });
  const marks = new MarksRepository(deps.db);
  const now = () => utcIso(deps.clock.now());
  const subScanExists = deps.db.prepare<[string], string>('SELECT id FROM scans WHERE cp_sub_scan_id = ?').pluck();

  function upsertSchedule({ schedule }: ScheduleUpsert, { commit }: CommandContext): void {
    const existing = deps.schedules.get(schedule.id);
    if (existing && existing.origin !== 'control_plane') {
      throw new AgentError(
        'AGENT_ERR_SCHEDULE_READ_ONLY',
        `schedule ${schedule.id} is a local ${existing.origin} schedule; the control plane cannot replace it`,
      );
    }
    const { id, anchor_at: anchorAt, updated_at: _updatedAt, ...write } = schedule;
    commit(() => {
      const saved = deps.scheduleService.save(write, { id, origin: 'control_plane' });
      // Slots are counted from the control plane's anchor, so both ends name the same slot.
      if (saved.anchor_at !== anchorAt) {
        deps.schedules.upsert({ ...saved, anchor_at: anchorAt, next_scan_at: computeNextScanAt({ ...saved, anchor_at: anchorAt }, deps.clock.now()) });
      }
    });
  }

  function deleteSchedule({ schedule_id: id }: ScheduleDelete, { commit }: CommandContext): void {
    const existing = deps.schedules.get(id);
    if (!existing) return;
    if (existing.origin !== 'control_plane')
      throw new AgentError('AGENT_ERR_SCHEDULE_READ_ONLY', `schedule ${id} is a local ${existing.origin} schedule; the control plane cannot delete it`);
    commit(() => deps.scheduleService.remove(id));
  }

  /** The schedule as this scan runs it: this site's subnets and the thresholds the command names. */
  function scheduleFor(command: ScanInvoke | ScanIps): StoredSchedule {
    const stored = deps.schedules.get(command.schedule_id);
    const at = now();
    const base: StoredSchedule = stored ?? {
      id: command.schedule_id,
      origin: 'control_plane',
      description: '',
      day_of_week: 0,
      time_of_day: '00:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: command.min_cvss,
      warning_threshold: command.warning_threshold,
      ignore_offline_sites: false,
      notification_group: '',
      sites: [],
      anchor_at: at,
      next_scan_at: null,
      last_run_at: null,
      last_slot_at: null,
      created_at: at,
      updated_at: at,
    };
    return {
      ...base,
      min_cvss: command.min_cvss,
      warning_threshold: command.warning_threshold,
      sites: command.subnets.map((subnet) => ({ id: deps.siteId, subnet })),
    };
  }

  async function startScan(command: ScanInvoke | ScanIps, ips: string[] | null, { commit }: CommandContext): Promise<void> {
    const siteScans = await deps.siteScans();
    if (subScanExists.get(command.sub_scan_id) !== undefined) return;
    const expired = Date.parse(command.expires_at) < deps.clock.now().getTime();
    // Created (and the out-of-scope rule checked) before any packet; an expired command is recorded as a failed run instead.
    const target = { cpScanId: command.scan_id, cpSubScanId: command.sub_scan_id };
    const scan = commit(() => {
      let row;
      try {
        row = siteScans.create(scheduleFor(command), { kind: ips === null ? 'invoke' : undefined, targetIps: ips, ...target });
      } catch (error) {
        if (!(error instanceof AgentError && error.code === 'AGENT_ERR_SCAN_OUT_OF_SCOPE')) throw error;
        // Refused before any packet; the control plane still hears that this site's part failed, and why.
        const refused = siteScans.create(scheduleFor(command), { kind: ips!.length === 1 ? 'single_ip' : 'multiple_ips', ...target });
        siteScans.scans.finish(refused.id, 'failed', error.message, now());
        return undefined;
      }
      if (expired) siteScans.scans.finish(row.id, 'failed', `the command expired at ${command.expires_at} before it reached the agent`, now());
      return row;
    });
    if (scan === undefined)
      throw new AgentError('AGENT_ERR_SCAN_OUT_OF_SCOPE', `${(ips ?? []).join(', ')} is outside the subnets of this site; nothing was sent`);
    if (expired) {
      log.warn({ scan_id: command.scan_id, expires_at: command.expires_at }, 'scan command expired; recorded as failed');
      return;
    }
    void siteScans.run(scan.id, deps.shutdown).catch((error: unknown) => log.error({ err: error, scan_id: scan.id }, 'invoked scan failed'));
  }

  async function stopScans(command: ScanStop): Promise<void> {
    const siteScans = await deps.siteScans();
    const running = siteScans.scans.list({ scheduleId: command.schedule_id }).filter((scan) => scan.status === 'queued' || scan.status === 'scanning');
    // A scan fired by this agent's own scheduler has no control-plane id: then stop what runs for the schedule.
    const named = command.scan_id === null ? [] : running.filter((scan) => scan.cp_scan_id === command.scan_id);
    for (const scan of named.length > 0 ? named : running) siteScans.stop(scan.id);
  }

  function addMark({ mark }: VulnMark, { commit }: CommandContext): void {
    commit(() =>
      marks.add(
        {
          mac: mark.mac_address,
          ip: null,
          cve_id: mark.cve_id,
          status: mark.status,
          justification: mark.justification,
          author: 'control-plane',
          expires_at: mark.expiration_date,
          cpe: null,
          scan_id: null,
          origin: 'control_plane',
        },
        mark.created_at,
      ),
    );
  }

  async function receiveFeed(chunk: FeedFile): Promise<void> {
    const result = await deps.feeds.receive(chunk, deps.shutdown);
    if (result.state === 'incomplete') log.debug({ transfer_id: chunk.transfer_id, received: result.received, of: chunk.chunk_count }, 'feed chunk stored');
  }

  return {
    'schedule.upsert': upsertSchedule,
    'schedule.delete': deleteSchedule,
    'scan.invoke': (command, context) => startScan(command, null, context),
    'scan.ips': (command, context) => startScan(command, command.ips, context),
    'scan.stop': stopScans,
    'vuln.mark': addMark,
    'feed.file': receiveFeed,
  };
}

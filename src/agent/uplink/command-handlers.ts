/**
 * What each command of the control plane does to this agent: schedules stored and armed like
 * local ones (origin 'control_plane'), scans created with the control plane's ids and run, stops,
 * accepted/mitigated marks, CVE feed files. Every handler is safe to run twice.
 */
import type { Logger } from 'pino';
import type { AgentFeed, FeedFile, ScanInvoke, ScanIps, ScanStop, ScheduleDelete, ScheduleUpsert, VulnMark } from '../../protocol/index.js';
import { AgentError } from '../errors.js';
import { commandSpec, MarksRepository, scopeProblem, type Scans } from '../pipeline/index.js';
import type { Clock } from '../../shared/clock.js';
import { computeNextScanAt, type ScheduleService } from '../schedule/schedule-service.js';
import type { Db } from '../../shared/sqlite.js';
import type { SchedulesRepository } from '../store/schedules-repository.js';
import type { CommandContext, CommandHandlers, CommandOutcome } from './command-dispatcher.js';
import type { FeedTransfers } from './feed-transfers.js';

export interface CommandHandlerDeps {
  db: Db;
  siteId: string;
  clock: Clock;
  logger: Logger;
  scheduleService: ScheduleService;
  schedules: SchedulesRepository;
  /** This site's scans (the module, through its interface). */
  scans: () => Scans;
  feeds: FeedTransfers;
  /** A pushed feed delta was applied (or was already held): the uplink tells the control plane the version now held. */
  onFeedApplied?: (feed: AgentFeed) => void;
  /** Aborted when the agent stops: an invoked scan pauses and resumes at the next start. */
  shutdown: AbortSignal;
}

export function createCommandHandlers(deps: CommandHandlerDeps): CommandHandlers {
  const log = deps.logger.child({ component: 'uplink-commands' });
  const marks = new MarksRepository(deps.db);

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

  /**
   * scan.invoke / scan.ips: the command's spec is started, or refused (out of scope: the control
   * plane gets a rejected reply; expired: recorded failed). A replayed command starts nothing new.
   */
  function startScan(command: ScanInvoke | ScanIps, { commit }: CommandContext): CommandOutcome {
    const scans = deps.scans();
    const spec = commandSpec(command, deps.siteId, deps.schedules.get(command.schedule_id));
    const problem = scopeProblem(spec);
    if (problem !== undefined) {
      scans.refuse(spec, problem, { commit });
      return { rejected: problem };
    }
    if (Date.parse(command.expires_at) < deps.clock.now().getTime()) {
      scans.refuse(spec, `the command expired at ${command.expires_at} before it reached the agent`, { commit });
      log.warn({ scan_id: command.scan_id, expires_at: command.expires_at }, 'scan command expired; recorded as failed');
      return;
    }
    const { scan, done } = scans.start(spec, { commit });
    void done.catch((error: unknown) => log.error({ err: error, scan_id: scan.id }, 'invoked scan failed'));
  }

  function stopScans(command: ScanStop): void {
    const scans = deps.scans();
    const running = scans.list({ scheduleId: command.schedule_id, active: true });
    // A scan fired by this agent's own scheduler has no control-plane id: then stop what runs for the schedule.
    const named = command.scan_id === null ? [] : running.filter((scan) => scan.cp_scan_id === command.scan_id);
    for (const scan of named.length > 0 ? named : running) scans.stop(scan.id);
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
    if (result.state === 'applied') deps.onFeedApplied?.(result.feed);
  }

  return {
    'schedule.upsert': upsertSchedule,
    'schedule.delete': deleteSchedule,
    'scan.invoke': startScan,
    'scan.ips': startScan,
    'scan.stop': stopScans,
    'vuln.mark': addMark,
    'feed.file': receiveFeed,
  };
}

import { AgentError } from '../../errors.js';
import type { ScheduledJob } from '../../schedule/scheduler.js';
import type { StoredSchedule } from '../../store/schedules-repository.js';
import type { Scans } from '../scans.js';
import { subnetsOfSite, thresholdsOf, type ScanSpec } from '../spec.js';

/** A slot of the agent's scheduler as a spec: this site's subnets of the schedule, whole. */
export function slotSpec(schedule: StoredSchedule, slotAt: string, siteId: string): ScanSpec {
  const subnets = subnetsOfSite(schedule, siteId);
  if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `schedule ${schedule.id} names no subnet of this site (${siteId})`);
  return { origin: { kind: 'slot', scheduleId: schedule.id, slotAt }, scope: { siteId, subnets, targetIps: null }, thresholds: thresholdsOf(schedule) };
}

/** The scheduler's job: one scan of this site's part of the schedule; a failed scan is a failed schedule run. */
export function slotJob(scans: () => Scans, siteId: string): ScheduledJob {
  return async ({ schedule, run, signal }) => {
    const result = await scans().start(slotSpec(schedule, run.slot_at, siteId), { signal }).done;
    if (result.status === 'failed') throw new Error(result.error ?? 'scan failed');
  };
}

import { AgentError } from '../../errors.js';
import type { StoredSchedule } from '../../store/schedules-repository.js';
import { subnetsOfSite, thresholdsOf, type ScanSpec } from '../spec.js';

/** `cve-agent scan --schedule <id> [--ip ...] [--with-router]` as a spec: this site's subnets of the schedule, or the IPs given. */
export function cliSpec(schedule: StoredSchedule, siteId: string, ips: readonly string[] | undefined, options: { withRouter?: boolean } = {}): ScanSpec {
  const subnets = subnetsOfSite(schedule, siteId);
  if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `schedule ${schedule.id} names no subnet of this site (${siteId})`);
  return {
    origin: { kind: 'cli', scheduleId: schedule.id },
    scope: { siteId, subnets, targetIps: ips && ips.length > 0 ? [...ips] : null },
    thresholds: thresholdsOf(schedule),
    withRouter: options.withRouter === true,
  };
}

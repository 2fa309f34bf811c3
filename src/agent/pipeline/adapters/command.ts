import type { ScanInvoke, ScanIps } from '../../../protocol/index.js';
import type { ScanSpec } from '../spec.js';

/**
 * scan.invoke or scan.ips as a spec: the subnets and thresholds the command names, with the
 * control plane's ids; whether an unreachable router fails the site is the stored schedule's say.
 */
export function commandSpec(command: ScanInvoke | ScanIps, siteId: string, stored: { ignore_offline_sites: boolean } | undefined): ScanSpec {
  return {
    origin: { kind: 'command', scheduleId: command.schedule_id, cpScanId: command.scan_id, cpSubScanId: command.sub_scan_id },
    scope: { siteId, subnets: command.subnets, targetIps: command.type === 'scan.ips' ? command.ips : null },
    thresholds: { minCvss: command.min_cvss, warningThreshold: command.warning_threshold, ignoreOfflineSites: stored?.ignore_offline_sites ?? false },
    withRouter: command.type === 'scan.ips' && command.with_router === true,
  };
}

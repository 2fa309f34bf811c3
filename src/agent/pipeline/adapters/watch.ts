import type { ScanSpec, ScanThresholds } from '../spec.js';

/**
 * A micro-scan the router's tables asked for, as a spec: no schedule, the addresses named (each
 * inside `subnets`, the site's scope that holds them), and the watch's own thresholds. An
 * unreachable router does not fail it: the host is probed all the same.
 */
export function watchSpec(
  request: { ips: readonly string[]; subnets: readonly string[]; withRouter: boolean; trigger: string },
  siteId: string,
  thresholds: Omit<ScanThresholds, 'ignoreOfflineSites'>,
): ScanSpec {
  return {
    origin: { kind: 'watch', trigger: request.trigger },
    scope: { siteId, subnets: [...request.subnets], targetIps: [...request.ips] },
    thresholds: { ...thresholds, ignoreOfflineSites: true },
    withRouter: request.withRouter,
  };
}

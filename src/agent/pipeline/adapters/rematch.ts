import { inScope } from '../../../shared/ipv4.js';
import type { StoredDevice } from '../scan-repository.js';
import type { ScanSpec } from '../spec.js';

/**
 * A re-match as a spec: the devices stored scans hold (their latest records), named by the
 * subnets of the scans that saw them (a router reported at an address outside those, as its
 * `router.host`, is named by its /32: nothing is sent to it either way). The run's thresholds are
 * the lowest of those scans, so its row admits everything it lists; each device is judged by the
 * thresholds of the scan that last saw it (runner/rematch.ts). Undefined: nothing is stored yet.
 */
export function rematchSpec(devices: readonly StoredDevice[], siteId: string, trigger: string): ScanSpec | undefined {
  if (devices.length === 0) return undefined;
  const subnets = [...new Set(devices.flatMap((device) => device.subnets))];
  const outside = devices.filter((device) => !inScope(device.ip, subnets)).map((device) => `${device.ip}/32`);
  return {
    origin: { kind: 're-match', trigger },
    // The whole subnets, not a list of addresses: a site holds more devices than scan.status may list (1,024).
    scope: { siteId, subnets: [...subnets, ...new Set(outside)], targetIps: null },
    thresholds: {
      minCvss: devices.reduce((lowest, device) => Math.min(lowest, device.min_cvss), Infinity),
      warningThreshold: devices.reduce((lowest, device) => Math.min(lowest, device.warning_threshold), Infinity),
      ignoreOfflineSites: true,
    },
    withRouter: false,
  };
}

/**
 * When the router watch may scan a host: a micro-scan keeps to the scan windows of every schedule
 * of this site whose subnets hold the host. One closed window among them is enough to wait: the
 * operator who set it meant "no packets to these subnets outside these hours". A host no schedule
 * covers (config `subnets` only) has no window.
 */
import { inScope } from '../../shared/ipv4.js';
import { windowState, type ScanWindow } from '../../shared/schedule/window.js';

export interface WindowedSchedule {
  timezone: string;
  window?: ScanWindow | null;
  sites: readonly { id: string; subnet: string }[];
}

export function hostInOpenWindows(schedules: readonly WindowedSchedule[], siteId: string, ip: string, at: Date): boolean {
  return schedules.every((schedule) => {
    const covers = schedule.sites.some((site) => site.id === siteId && inScope(ip, [site.subnet]));
    return !covers || windowState(schedule.window ?? null, schedule.timezone, at).open;
  });
}

/** How a scan's status follows from its sites' parts (seed 004's statuses, the API README's rules). */
import type { ScanStatus, SubScanStatus } from '../store/types.js';

export const openSubScanStatuses: readonly SubScanStatus[] = ['pending', 'queued', 'scanning', 'stopping'];
export const terminalScanStatuses: readonly ScanStatus[] = ['completed', 'partial', 'failed'];

export const isOpenSubScan = (status: SubScanStatus): boolean => openSubScanStatuses.includes(status);
export const isTerminalScan = (status: ScanStatus): boolean => terminalScanStatuses.includes(status);

/**
 * - `completed`: every targeted site finished its scan.
 * - `partial`: some sites failed, or the scan was stopped, after results came in.
 * - `failed`: nothing usable.
 * Skipped sites (offline at start with `ignore_offline_sites`) are not targets. A terminal scan
 * stays terminal while a late site reports in, and settles again when that site finishes.
 */
export function deriveScanStatus(subStatuses: readonly SubScanStatus[], hasResults: boolean, current: ScanStatus): ScanStatus {
  const targeted = subStatuses.filter((status) => status !== 'skipped');
  const open = targeted.filter(isOpenSubScan);
  if (open.length > 0) {
    if (isTerminalScan(current)) return current;
    // Sites failed at the start (offline) are no sign of work under way; a running or finished site is.
    return open.some((status) => status === 'scanning' || status === 'stopping') || targeted.some((status) => status === 'completed' || status === 'stopped')
      ? 'scanning'
      : 'queued';
  }
  if (targeted.length > 0 && targeted.every((status) => status === 'completed')) return 'completed';
  return hasResults ? 'partial' : 'failed';
}

/** "35 minutes", "2 hours 5 minutes", "40 seconds": the summary's `runtime`. */
export function formatRuntime(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours} hour${hours === 1 ? '' : 's'}${rest === 0 ? '' : ` ${rest} minute${rest === 1 ? '' : 's'}`}`;
}

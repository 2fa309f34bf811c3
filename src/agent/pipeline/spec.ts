/**
 * One ScanSpec describes every scan, whatever started it: where it comes from (a slot of the
 * agent's scheduler, a control-plane command, the CLI), what it may touch, and its thresholds.
 * The adapters in adapters/ build it; the scans module runs or refuses it.
 */
import { inScope } from '../../shared/ipv4.js';
import type { NewScan } from './scan-repository.js';
import type { ScanKind } from './scan-types.js';

/** Where a scan comes from; decides its stored kind and which ids its reports carry. */
export type ScanOrigin =
  /** A slot of the agent's own scheduler. */
  | { kind: 'slot'; scheduleId: string; slotAt: string }
  /** scan.invoke or scan.ips from the control plane. */
  | { kind: 'command'; scheduleId: string; cpScanId: string; cpSubScanId: string }
  /** cve-agent scan --schedule. */
  | { kind: 'cli'; scheduleId: string }
  /** The router told of a change (a new device, a new version): no schedule; `trigger` says what changed. */
  | { kind: 'watch'; trigger: string }
  /** New CVE data judged against the services already stored, without a packet: `trigger` names the data. */
  | { kind: 're-match'; trigger: string };

/** The origins no schedule made, as stored and reported. */
const unscheduled = (origin: ScanOrigin): origin is Extract<ScanOrigin, { trigger: string }> => origin.kind === 'watch' || origin.kind === 're-match';

export interface ScanScope {
  siteId: string;
  /** This site's subnets of the schedule or command. */
  subnets: readonly string[];
  /** Null: the whole subnets. Otherwise each must lie inside `subnets` (see scopeProblem). */
  targetIps: readonly string[] | null;
}

export interface ScanThresholds {
  minCvss: number;
  warningThreshold: number;
  /** An unreachable router does not fail the site: the sweep alone finds hosts. */
  ignoreOfflineSites: boolean;
}

export interface ScanSpec {
  origin: ScanOrigin;
  scope: ScanScope;
  thresholds: ScanThresholds;
  /**
   * A targeted scan (single or multiple IPs) judges the router and its MikroTik neighbors only if
   * asked; a site-wide scan always does. Judging reads the versions the router reports: nothing is
   * sent to them, so the scope is not widened.
   */
  withRouter?: boolean;
}

/** Why the spec may not run (a target outside this site's subnets, or no subnet at all), or undefined. Nothing is sent before this is checked. */
export function scopeProblem(spec: ScanSpec): string | undefined {
  const { subnets, siteId } = spec.scope;
  if (subnets.length === 0) return `the schedule names no subnet of this site (${siteId}); nothing was sent`;
  const outside = (spec.scope.targetIps ?? []).filter((ip) => !inScope(ip, subnets));
  if (outside.length === 0) return undefined;
  return `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside the schedule's subnets for this site (${subnets.join(', ')}); nothing was sent`;
}

/** The stored kind: a slot is a schedule run; otherwise the whole subnets is an invoke, and targets are one or several IPs. */
export function kindOf(spec: ScanSpec): ScanKind {
  const targets = spec.scope.targetIps;
  if (spec.origin.kind === 'slot') return 'schedule';
  if (targets === null) return 'invoke';
  return targets.length === 1 ? 'single_ip' : 'multiple_ips';
}

/** The row the spec becomes (before its label). */
export function toNewScan(spec: ScanSpec): Omit<NewScan, 'label'> {
  const { origin, scope, thresholds } = spec;
  return {
    kind: kindOf(spec),
    schedule_id: unscheduled(origin) ? null : origin.scheduleId,
    origin: unscheduled(origin) ? origin.kind : null,
    trigger: unscheduled(origin) ? origin.trigger : null,
    slot_at: origin.kind === 'slot' ? origin.slotAt : null,
    cp_scan_id: origin.kind === 'command' ? origin.cpScanId : null,
    cp_sub_scan_id: origin.kind === 'command' ? origin.cpSubScanId : null,
    site_id: scope.siteId,
    subnets: [...scope.subnets],
    target_ips: scope.targetIps === null ? null : [...scope.targetIps],
    min_cvss: thresholds.minCvss,
    warning_threshold: thresholds.warningThreshold,
    ignore_offline_sites: thresholds.ignoreOfflineSites,
    with_router: spec.withRouter === true,
  };
}

/** A schedule's thresholds. */
export function thresholdsOf(schedule: { min_cvss: number; warning_threshold: number; ignore_offline_sites: boolean }): ScanThresholds {
  return { minCvss: schedule.min_cvss, warningThreshold: schedule.warning_threshold, ignoreOfflineSites: schedule.ignore_offline_sites };
}

/** This site's subnets of a schedule. */
export function subnetsOfSite(schedule: { sites: readonly { id: string; subnet: string }[] }, siteId: string): string[] {
  return schedule.sites.filter((site) => site.id === siteId).map((site) => site.subnet);
}

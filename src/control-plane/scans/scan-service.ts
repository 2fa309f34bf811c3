/**
 * Starting and stopping scans: the control plane's half of a scan is to create it with one
 * sub-scan per site, tell the online agents, and apply the offline rule to the others. The
 * agents' reports fill it in through the hub.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Hub, OutgoingCommand } from '../hub/hub.js';
import type { ControlPlaneStore, NewScan, NewSubScan, ScanKind, ScanRow, StoredSchedule, SubScanRow } from '../store/types.js';
import { scanKeyOf, scanLabelOf } from '../../shared/scan-label.js';

export interface ScanServiceDeps {
  store: ControlPlaneStore;
  hub: Pick<Hub, 'isOnline' | 'command' | 'commands' | 'prepare' | 'deliver'>;
  clock: Clock;
  logger: Logger;
  commandTtlMinutes: number;
  timeoutMinutes: number;
  /** A scan just reached a terminal status: its notifications are due. */
  onFinished: () => void;
  /** A scan was created, stopped or timed out here (its status and progress may have moved), with the event lines written for it. */
  onChanged?: (change: ScanChange) => void;
}

export interface ScanChange {
  org_id: string;
  scan_id: string;
  at: string;
  events: readonly { site_id: string | null; message: string }[];
}

export const OFFLINE_ERROR = "the site's agent was offline when the scan started";

/** The schedule's sites with their subnets merged (a site may be listed once per subnet). */
export function sitesOf(schedule: Pick<StoredSchedule, 'sites'>): Map<string, string[]> {
  const sites = new Map<string, string[]>();
  for (const { id, subnet } of schedule.sites) sites.set(id.toLowerCase(), [...(sites.get(id.toLowerCase()) ?? []), subnet]);
  return sites;
}

interface Plan {
  subs: NewSubScan[];
  events: NewScan['events'];
}

export class ScanService {
  readonly #deps: ScanServiceDeps;

  constructor(deps: ScanServiceDeps) {
    this.#deps = deps;
  }

  /**
   * The sub-scans of a new scan: online sites wait for their agent, offline ones are failed, or
   * skipped (not targets) when the schedule says `ignore_offline_sites`.
   */
  #plan(schedule: StoredSchedule, only?: { siteId: string; ips: string[] }): Plan {
    const subs: NewSubScan[] = [];
    const events: NewScan['events'] = [];
    for (const [siteId, subnets] of sitesOf(schedule)) {
      if (only && only.siteId !== siteId) continue;
      const online = this.#deps.hub.isOnline(siteId);
      const skip = !online && schedule.ignore_offline_sites && !only;
      subs.push({
        id: randomUUID(),
        site_id: siteId,
        subnets,
        target_ips: only?.ips ?? null,
        status: online ? 'pending' : skip ? 'skipped' : 'failed',
        error: online ? null : OFFLINE_ERROR,
      });
      if (!online)
        events.push({
          site_id: siteId,
          level: 'warning',
          message: `site ${siteId}: agent offline at start${skip ? '; scanning on without it (ignore_offline_sites)' : ''}`,
        });
    }
    return { subs, events };
  }

  #newScan(schedule: StoredSchedule, kind: ScanKind, slotAt: string | null, plan: Plan): NewScan {
    const id = randomUUID();
    return {
      scan: {
        id,
        org_id: schedule.org_id,
        schedule_id: schedule.id,
        slot_at: slotAt,
        kind,
        label: scanLabelOf(scanKeyOf({ schedule_id: schedule.id, slot_at: slotAt, cp_scan_id: id, run_id: id })),
        min_cvss: schedule.min_cvss,
        warning_threshold: schedule.warning_threshold,
        ignore_offline_sites: schedule.ignore_offline_sites,
        notification_group: schedule.notification_group,
        created_at: this.#deps.clock.now().toISOString(),
      },
      subScans: plan.subs,
      events: plan.events,
    };
  }

  /** The scan, its sub-scans, the schedule's last_run_at and the agents' commands: one transaction, then the commands go out. */
  async #create(input: NewScan, commands: OutgoingCommand[] = []): Promise<ScanRow> {
    const { hub } = this.#deps;
    const at = this.#deps.clock.now().toISOString();
    const { scan, created, finished, commands: stored } = await this.#deps.store.scans.create(input, at, hub.prepare(commands));
    hub.deliver(commands, stored);
    if (finished) this.#deps.onFinished();
    if (created || finished) this.#deps.onChanged?.({ org_id: scan.org_id, scan_id: scan.id, at, events: created ? input.events : [] });
    return scan;
  }

  #expiry(): string {
    return new Date(this.#deps.clock.now().getTime() + this.#deps.commandTtlMinutes * 60_000).toISOString();
  }

  /** POST .../invoke: the whole schedule now. The caller checked that nothing runs. */
  async invoke(schedule: StoredSchedule): Promise<ScanRow> {
    const input = this.#newScan(schedule, 'invoke', null, this.#plan(schedule));
    const expiresAt = this.#expiry();
    return this.#create(
      input,
      input.subScans
        .filter((s) => s.status === 'pending')
        .map((sub) => ({
          siteId: sub.site_id,
          type: 'scan.invoke' as const,
          body: {
            scan_id: input.scan.id,
            sub_scan_id: sub.id,
            schedule_id: schedule.id,
            subnets: sub.subnets,
            min_cvss: input.scan.min_cvss,
            warning_threshold: input.scan.warning_threshold,
            expires_at: expiresAt,
          },
          expiresAt,
        })),
    );
  }

  /**
   * single-ip and multiple-ips: one site, the given addresses (already checked to lie in its subnets).
   * `withRouter`: the agent judges the site's router and neighbors too; sent only when asked, so an agent before the field still takes the command.
   */
  async scanIps(
    schedule: StoredSchedule,
    siteId: string,
    ips: string[],
    kind: 'single_ip' | 'multiple_ips',
    options: { withRouter?: boolean } = {},
  ): Promise<{ scan: ScanRow; subScanId: string }> {
    const input = this.#newScan(schedule, kind, null, this.#plan(schedule, { siteId, ips }));
    const sub = input.subScans[0] as NewSubScan;
    const expiresAt = this.#expiry();
    const commands: OutgoingCommand[] =
      sub.status === 'pending'
        ? [
            {
              siteId,
              type: 'scan.ips',
              body: {
                scan_id: input.scan.id,
                sub_scan_id: sub.id,
                schedule_id: schedule.id,
                subnets: sub.subnets,
                ips,
                ...(options.withRouter === true ? { with_router: true } : {}),
                min_cvss: input.scan.min_cvss,
                warning_threshold: input.scan.warning_threshold,
                expires_at: expiresAt,
              },
              expiresAt,
            },
          ]
        : [];
    return { scan: await this.#create(input, commands), subScanId: sub.id };
  }

  /** A slot of the schedule came: the agents fire on their own; this records the scan and the offline rule. */
  async fireSlot(schedule: StoredSchedule, slotAt: string): Promise<ScanRow> {
    return this.#create(this.#newScan(schedule, 'scheduled', slotAt, this.#plan(schedule)));
  }

  /** DELETE .../invoke: sites that have not started are stopped at once, running ones are told to stop. */
  async stop(scheduleId: string): Promise<ScanRow | undefined> {
    const scan = await this.#deps.store.scans.activeOfSchedule(scheduleId);
    if (!scan) return undefined;
    const at = this.#deps.clock.now().toISOString();
    await this.#deps.store.scans.requestStop(scan.id, at);
    const subs = await this.#deps.store.scans.subScans(scan.id);
    const notStarted = subs.filter((sub) => sub.status === 'pending' && sub.run_id === null);
    const open = subs.filter(
      (s) => s.status === 'queued' || s.status === 'scanning' || s.status === 'stopping' || (s.status === 'pending' && s.run_id === null),
    );
    await this.#deps.hub.commands(
      open.map((sub) => ({
        siteId: sub.site_id,
        type: 'scan.stop' as const,
        body: { schedule_id: scheduleId, scan_id: scan.kind === 'scheduled' ? null : scan.id },
      })),
    );
    const event = { level: 'info', message: 'stop requested' };
    const finished = await this.#deps.store.scans.changeSubScans(
      scan.id,
      notStarted.map((sub) => ({ id: sub.id, status: 'stopped', error: 'stopped before the site started' })),
      event,
      at,
    );
    if (finished) this.#deps.onFinished();
    this.#deps.onChanged?.({ org_id: scan.org_id, scan_id: scan.id, at, events: [{ site_id: null, message: event.message }] });
    return scan;
  }

  /** Fails sites whose agent never picked the scan up within the command TTL, or never finished within the scan timeout. */
  async expireOverdue(): Promise<number> {
    const now = this.#deps.clock.now().getTime();
    const ttlBefore = new Date(now - this.#deps.commandTtlMinutes * 60_000).toISOString();
    const overdue = await this.#deps.store.scans.overdueSubScans(ttlBefore);
    const timeoutBefore = new Date(now - this.#deps.timeoutMinutes * 60_000).toISOString();
    // A site paused for its scan window is timed from the opening it said it resumes at, not from its start.
    const expired = overdue.filter((sub) => (sub.status === 'pending' && sub.run_id === null) || (sub.paused_until ?? sub.created_at) <= timeoutBefore);
    const byScan = new Map<string, typeof expired>();
    for (const sub of expired) byScan.set(sub.scan_id, [...(byScan.get(sub.scan_id) ?? []), sub]);
    const at = new Date(now).toISOString();
    for (const [scanId, subs] of byScan) {
      const changes = subs.map((sub) => ({
        id: sub.id,
        status: 'failed' as const,
        error:
          sub.run_id === null
            ? `the site's agent did not start the scan within ${this.#deps.commandTtlMinutes} minutes`
            : `no result from the site's agent within ${this.#deps.timeoutMinutes} minutes`,
      }));
      const event = { level: 'warning', message: `${subs.length} site(s) timed out` };
      if (await this.#deps.store.scans.changeSubScans(scanId, changes, event, at)) this.#deps.onFinished();
      const site = this.#deps.onChanged && (await this.#deps.store.sites.get((subs[0] as SubScanRow).site_id));
      if (site) this.#deps.onChanged?.({ org_id: site.org_id, scan_id: scanId, at, events: [{ site_id: null, message: event.message }] });
      this.#deps.logger.warn({ scan_id: scanId, sites: subs.map((s) => s.site_id) }, 'sites timed out');
    }
    return expired.length;
  }
}

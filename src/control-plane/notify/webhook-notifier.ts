/**
 * Scan notifications: when a scan finishes, every webhook of its schedule's notification group
 * gets a signed POST. Deliveries are rows first (queued in one transaction with the scan's
 * state), so a restart resumes them; failures are retried with capped, jittered exponential
 * backoff, and every attempt's outcome is recorded. Finding alerts (`finding.kev`/`exposed`) and
 * change alerts (`device.new`, `finding.new|closed|resurfaced`, `router.version_changed`) raised
 * at ingest go out the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffDelay } from '../../shared/backoff.js';
import type { Clock } from '../../shared/clock.js';
import type { NotificationGroup } from '../config/load.js';
import type { ChangeAlert, DeliveryRow, FindingAlert, NotificationStore, ScanRow } from '../store/types.js';
import { signBody } from './sign.js';
import { scanOrigin } from '../api/render.js';
import { coverageSummary } from '../../shared/report/coverage.js';

export interface NotifierSettings {
  max_attempts: number;
  backoff_initial_seconds: number;
  backoff_max_seconds: number;
  timeout_seconds: number;
}

export interface NotifierDeps {
  store: NotificationStore;
  groups: Readonly<Record<string, NotificationGroup>>;
  settings: NotifierSettings;
  clock: Clock;
  logger: Logger;
  /** Where report_url points: the public URL of this control plane. */
  baseUrl: () => string;
  random?: () => number;
}

/** The delay before attempt `attempt + 1`: the shared backoff, doubling from the initial wait. */
const backoffMs = (attempt: number, settings: NotifierSettings, random: () => number): number =>
  backoffDelay(attempt, { initialMs: settings.backoff_initial_seconds * 1000, maxMs: settings.backoff_max_seconds * 1000, factor: 2 }, random);

// Worth another try: the receiver may be back later. Any other 4xx is the request's fault and final.
const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

export class WebhookNotifier {
  readonly #deps: NotifierDeps;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(deps: NotifierDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'notify' });
  }

  start(): void {
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('control plane stopping'));
    await this.#running;
  }

  /** Something may be due now (a scan finished); runs a pass, or another one right after the current. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass()
      .catch((error: unknown) => this.#log.error({ err: error }, 'notification pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else {
          void this.#armTimer();
        }
      });
  }

  /** Resolves when no pass is running (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #armTimer(): Promise<void> {
    if (this.#stopped) return;
    const next = await this.#deps.store.nextDueAt();
    if (next === undefined || this.#stopped) return;
    const delay = Math.max(0, Math.min(Date.parse(next) - this.#deps.clock.now().getTime(), 2 ** 31 - 1));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), delay);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    for (const scan of await this.#deps.store.awaiting()) await this.#deps.store.queue(scan.id, await this.#deliveriesFor(scan));
    for (const alert of await this.#deps.store.pendingAlerts()) await this.#deps.store.queueAlert(alert.id, this.#alertDeliveries(alert));
    for (const change of await this.#deps.store.pendingChanges()) await this.#deps.store.queueChange(change.id, this.#changeDeliveries(change));
    // Claimed (on a store several nodes share) for longer than an attempt can take: its HTTP timeout, then recording it.
    const leaseMs = this.#deps.settings.timeout_seconds * 2000 + 30_000;
    const due = await this.#deps.store.due(this.#deps.clock.now().toISOString(), 50, leaseMs);
    await Promise.all(due.map((delivery) => this.#attempt(delivery)));
  }

  async #deliveriesFor(scan: ScanRow): Promise<DeliveryRow[]> {
    const group = scan.notification_group === null ? undefined : this.#deps.groups[scan.notification_group];
    if (!group) {
      if (scan.notification_group !== null)
        this.#log.warn({ scan_id: scan.id, group: scan.notification_group }, 'notification group not configured; nobody is notified');
      return [];
    }
    const at = this.#deps.clock.now().toISOString();
    // What each site's run could not see, in short: the counts and the warnings (report.json has the lists).
    const coverage = (await this.#deps.store.coverageOf(scan.id)).map(({ site_id, coverage: statement }) => ({
      site_id,
      summary: statement ? coverageSummary(statement) : null,
    }));
    const body = JSON.stringify({
      event: `scan.${scan.status}`,
      timestamp: at,
      data: {
        scan_id: scan.id,
        scan_schedule_id: scan.schedule_id,
        status: scan.status,
        cve_count: scan.cve_count,
        highest_score: scan.highest_score,
        warnings: scan.warning_count,
        report_url: `${this.#deps.baseUrl()}/scans/cve/${scan.id}/report.json`,
        coverage,
      },
    });
    return group.webhooks.map((url) => ({
      id: randomUUID(),
      scan_id: scan.id,
      group_name: group.name,
      url,
      event: `scan.${scan.status}`,
      body,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_status: null,
      last_error: null,
      created_at: at,
      delivered_at: null,
    }));
  }

  /** The group of the scan the finding came in, or none (logged when it names an unconfigured group). */
  #groupOf(scan: ScanRow): NotificationGroup | undefined {
    const group = scan.notification_group === null ? undefined : this.#deps.groups[scan.notification_group];
    if (!group && scan.notification_group !== null)
      this.#log.warn({ scan_id: scan.id, group: scan.notification_group }, 'notification group not configured; nobody is notified');
    return group;
  }

  /** `finding.kev` / `finding.exposed`: an open finding entered KEV or became exposed (store/sqlite/finding-watch.ts). */
  #alertDeliveries(alert: FindingAlert): DeliveryRow[] {
    const group = this.#groupOf(alert.scan);
    if (!group) return [];
    const at = this.#deps.clock.now().toISOString();
    const { finding, scan } = alert;
    const event = `finding.${alert.kind}`;
    const body = JSON.stringify({
      event,
      timestamp: at,
      data: {
        scan_id: scan.id,
        scan_schedule_id: scan.schedule_id,
        finding_id: finding.id,
        cve_id: finding.cve.id,
        score: finding.cve.score,
        severity: finding.cve.severity,
        host: { ip_address: finding.host.ip, mac_address: finding.host.mac, hostname: finding.host.hostname },
        port: finding.port,
        service: finding.service,
        kev: finding.kev ?? null,
        epss: finding.epss ?? null,
        exposure: finding.exposure ?? null,
        why: finding.why ?? [],
        report_url: `${this.#deps.baseUrl()}/scans/cve/${scan.id}/report.json`,
      },
    });
    return group.webhooks.map((url) => ({
      id: randomUUID(),
      scan_id: scan.id,
      group_name: group.name,
      url,
      event,
      body,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_status: null,
      last_error: null,
      created_at: at,
      delivered_at: null,
    }));
  }

  /**
   * `device.new`, `finding.new`, `finding.closed`, `finding.resurfaced`, `router.version_changed`
   * (store/change-watch.ts): to the group of the scan whose run caused it, as a finding alert; for
   * a run no schedule made (watch, re-match), to the groups of the schedules covering its site.
   */
  #changeDeliveries(change: ChangeAlert): DeliveryRow[] {
    const groups = change.groups.flatMap((name) => {
      const group = this.#deps.groups[name];
      if (!group) this.#log.warn({ scan_id: change.scan.id, group: name }, 'notification group not configured; nobody is notified');
      return group ? [group] : [];
    });
    if (groups.length === 0) return [];
    const at = this.#deps.clock.now().toISOString();
    const { scan } = change;
    const body = JSON.stringify({
      event: change.event,
      timestamp: at,
      data: {
        site_id: change.site_id,
        scan_id: scan.id,
        scan_schedule_id: scan.schedule_id,
        origin: scanOrigin(scan),
        ...change.data,
        report_url: `${this.#deps.baseUrl()}/scans/cve/${scan.id}/report.json`,
      },
    });
    return groups.flatMap((group) =>
      group.webhooks.map((url) => ({
        id: randomUUID(),
        scan_id: scan.id,
        group_name: group.name,
        url,
        event: change.event,
        body,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: at,
        last_status: null,
        last_error: null,
        created_at: at,
        delivered_at: null,
      })),
    );
  }

  async #attempt(delivery: DeliveryRow): Promise<void> {
    const group = this.#deps.groups[delivery.group_name];
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    try {
      if (!group) throw new Error(`notification group ${delivery.group_name} is no longer configured`);
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'cve-control-plane',
          'x-signature': signBody(delivery.body, group.secret),
          'x-delivery-id': delivery.id,
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#deps.settings.timeout_seconds * 1000)]),
      });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (caught) {
      if (this.#abort.signal.aborted) {
        // Stopping: the row goes back as it was due, uncounted, so this node after its restart or
        // another node now retries it (a store several nodes share would hold it for the claim's lease).
        const { next_attempt_at, last_status, last_error } = delivery;
        await this.#deps.store.recordAttempt(delivery.id, {
          status: 'pending',
          attempts: delivery.attempts,
          next_attempt_at,
          last_status,
          last_error,
          delivered_at: null,
        });
        return;
      }
      error = caught instanceof Error ? (caught.cause instanceof Error ? `${caught.message}: ${caught.cause.message}` : caught.message) : String(caught);
    }
    const now = this.#deps.clock.now();
    if (error === null) {
      await this.#deps.store.recordAttempt(delivery.id, {
        status: 'delivered',
        attempts,
        next_attempt_at: delivery.next_attempt_at,
        last_status: status,
        last_error: null,
        delivered_at: now.toISOString(),
      });
      this.#log.info({ delivery_id: delivery.id, url: delivery.url, attempts }, 'webhook delivered');
      return;
    }
    const final = attempts >= this.#deps.settings.max_attempts || (status !== null && !retryable(status));
    const next = new Date(now.getTime() + backoffMs(attempts, this.#deps.settings, this.#deps.random ?? Math.random)).toISOString();
    await this.#deps.store.recordAttempt(delivery.id, {
      status: final ? 'failed' : 'pending',
      attempts,
      next_attempt_at: next,
      last_status: status,
      last_error: error,
      delivered_at: null,
    });
    this.#log.warn(
      { delivery_id: delivery.id, url: delivery.url, attempts, error, final },
      final ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
  }
}

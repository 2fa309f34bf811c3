/**
 * Turns what the control plane does into the console's live messages: reports a committed ingest
 * batch applied (scan progress and status, events, findings), agents coming and going, and scans
 * the scan service created, stopped or timed out. Status and progress are read back from the
 * store and shaped by the same functions as `GET /scans/cve/{id}`, so the page and the API agree.
 * In a cluster the other nodes' publishers hear of it through the relay (live-relay.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { eventMessage, scanProgress } from '../api/render.js';
import type { AppliedReport } from '../hub/ingestor.js';
import type { ScanChange } from '../scans/scan-service.js';
import type { ClusterSignals, ControlPlaneStore, ScanRow, Site } from '../store/types.js';
import type { LiveBus, LivePayload } from './live-bus.js';
import { LiveRelay, type RelayItem } from './live-relay.js';

export interface LivePublisherDeps {
  bus: LiveBus;
  store: Pick<ControlPlaneStore, 'scans'>;
  clock: Clock;
  logger: Logger;
  /** The other nodes of a cluster (absent: this process alone), and this node's id among them. */
  cluster?: { signals: ClusterSignals; nodeId: string };
}

interface ScanView {
  row: ScanRow;
  progress: number;
  multiSite: boolean;
}

// Scans whose last `scan` message is remembered (to send only changes); terminal ones are forgotten.
const REMEMBERED_SCANS = 50_000;

export class LivePublisher {
  readonly #deps: LivePublisherDeps;
  readonly #log: Logger;
  readonly #lastSent = new Map<string, string>();
  // One batch or change at a time, in the order they happened: a slower read must not let a later
  // batch's messages overtake an earlier one's.
  #chain: Promise<void> = Promise.resolve();
  readonly #relay: LiveRelay | undefined;

  constructor(deps: LivePublisherDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'live' });
    this.#relay =
      deps.cluster?.signals.clustered === true
        ? new LiveRelay({ signals: deps.cluster.signals, nodeId: deps.cluster.nodeId, logger: this.#log, received: (items) => this.#received(items) })
        : undefined;
  }

  /** Starts hearing the other nodes' messages. */
  start(): void {
    this.#relay?.start();
  }

  /** Sends the last messages to the other nodes and stops hearing theirs. */
  async stop(): Promise<void> {
    await this.idle();
    await this.#relay?.stop();
  }

  /** Resolves once everything handed over so far is published. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** The ingestor committed a batch. */
  applied(reports: readonly AppliedReport[]): void {
    this.#queue(() => this.#applied(reports));
  }

  /** The scan service created, stopped or timed out a scan. */
  scanChanged(change: ScanChange): void {
    this.#queue(async () => {
      const scan = await this.#read(change.org_id, change.scan_id);
      if (!scan) return;
      for (const event of change.events)
        this.#publish(change.org_id, { type: 'event', scan_id: change.scan_id, time: change.at, message: eventMessage(event, scan.multiSite) });
      this.#scan(change.org_id, change.scan_id, scan, true);
    });
  }

  /** A site's agent came online or went offline. */
  presence(site: Pick<Site, 'id' | 'org_id'>, online: boolean): void {
    this.#publish(site.org_id, { type: 'site', site_id: site.id, online, at: this.#deps.clock.now().toISOString() });
  }

  /** Publishes here and relays to the other nodes (a scan's move as a trigger they read themselves). */
  #publish(org: string, payload: LivePayload): void {
    this.#deps.bus.publish(org, payload);
    if (payload.type !== 'scan') this.#relay?.send({ o: org, p: payload });
  }

  /** Another node's messages: facts published as they are, scans read from the store here. */
  #received(items: RelayItem[]): void {
    this.#queue(async () => {
      for (const item of items) {
        if ('p' in item) {
          this.#deps.bus.publish(item.o, item.p);
          continue;
        }
        const scan = await this.#read(item.o, item.s);
        if (scan) this.#scan(item.o, item.s, scan, item.a === 1, false);
      }
    });
  }

  #queue(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch((error: unknown) => this.#log.error({ err: error }, 'live message not published'));
  }

  async #read(org: string, scanId: string): Promise<ScanView | undefined> {
    const { scans } = this.#deps.store;
    const [row, totals] = await Promise.all([scans.get(org, scanId), scans.siteTotals(scanId)]);
    if (!row) return undefined;
    return { row, progress: scanProgress(row, totals), multiSite: totals.targets > 1 };
  }

  async #applied(reports: readonly AppliedReport[]): Promise<void> {
    // The batch is committed: one read per scan gives its state after all of it. Findings carry
    // all they show; events need the scan's site count, status and progress reports its state.
    const scans = new Map<string, { org: string; moved: boolean }>();
    for (const { item, scan_id: scanId } of reports) {
      const type = item.report.type;
      if (scanId === null || type === 'finding' || type === 'host' || type === 'inventory') continue;
      const moved = type !== 'scan.event';
      scans.set(scanId, { org: item.site.org_id, moved: moved || scans.get(scanId)?.moved === true });
    }
    const read = new Map<string, ScanView | undefined>();
    for (const [scanId, { org }] of scans) read.set(scanId, await this.#read(org, scanId));
    for (const { item, scan_id: scanId } of reports) {
      const m = item.report;
      if (scanId === null) continue;
      const org = item.site.org_id;
      if (m.type === 'scan.event') {
        const scan = read.get(scanId);
        if (scan)
          this.#publish(org, {
            type: 'event',
            scan_id: scanId,
            time: m.at,
            message: eventMessage({ site_id: item.site.id, message: m.message }, scan.multiSite),
          });
      } else if (m.type === 'finding' && m.distro?.status !== 'fixed' && m.distro?.status !== 'not-affected') {
        // A finding the distribution patched is stored but is no vulnerability: not news for the console.
        this.#publish(org, {
          type: 'finding',
          scan_id: scanId,
          site_id: item.site.id,
          mac_address: m.mac,
          ip_address: m.ip,
          cve_id: m.cve.id,
          score: m.cve.score,
          severity: m.cve.severity,
        });
      }
    }
    for (const [scanId, { org, moved }] of scans) {
      const scan = read.get(scanId);
      if (moved && scan) this.#scan(org, scanId, scan, false);
    }
  }

  #scan(org: string, scanId: string, scan: ScanView, always: boolean, relay = true): void {
    const { row, progress } = scan;
    const key = `${row.status} ${progress}`;
    if (!always && this.#lastSent.get(scanId) === key) return;
    // The other nodes read the scan themselves (a trigger, not the message).
    if (relay) this.#relay?.send(always ? { o: org, s: scanId, a: 1 } : { o: org, s: scanId });
    if (this.#lastSent.size >= REMEMBERED_SCANS) this.#lastSent.clear();
    if (row.finished_at === null) this.#lastSent.set(scanId, key);
    else this.#lastSent.delete(scanId);
    this.#deps.bus.publish(org, {
      type: 'scan',
      scan_id: scanId,
      scan_schedule_id: row.schedule_id,
      status: row.status,
      progress,
      at: this.#deps.clock.now().toISOString(),
    });
  }
}

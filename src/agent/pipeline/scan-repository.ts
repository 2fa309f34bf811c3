import { randomUUID } from 'node:crypto';
import type { Db } from '../../shared/sqlite.js';
import type { ScanRef } from '../../shared/scan-label.js';
import { OutboxRepository, type OutgoingReport } from '../store/outbox-repository.js';
import type { Coverage } from '../../shared/report/coverage.js';
import { scanCoverage } from './coverage.js';
import type { DistroVerdict } from '../../cve/distro/verdict.js';
import type { HostRecord, ProbeCut, RunNotes, ScanRow, ScanStatus, StoredFinding } from './scan-types.js';

export type NewScan = Pick<
  ScanRow,
  | 'kind'
  | 'label'
  | 'schedule_id'
  | 'slot_at'
  | 'cp_scan_id'
  | 'cp_sub_scan_id'
  | 'site_id'
  | 'subnets'
  | 'target_ips'
  | 'min_cvss'
  | 'warning_threshold'
  | 'ignore_offline_sites'
> &
  Partial<Pick<ScanRow, 'with_router' | 'origin' | 'trigger'>>;

export interface DoneHostRow {
  id: string;
  ip: string;
  mac: string | null;
  hostname: string | null;
  manufacturer: string | null;
  role: string;
  randomized_mac: number;
  sources: string;
}

interface ScanDbRow extends Omit<ScanRow, 'subnets' | 'target_ips' | 'ignore_offline_sites' | 'with_router'> {
  subnets: string;
  target_ips: string | null;
  ignore_offline_sites: number;
  with_router: number;
  run_notes: string;
}

const toScan = ({ run_notes: _notes, ...row }: ScanDbRow): ScanRow => ({
  ...row,
  // Paused is not a stored status (no table rebuild): a run still going whose window is closed.
  status: row.paused_until !== null && (row.status === 'queued' || row.status === 'scanning') ? 'paused' : row.status,
  subnets: JSON.parse(row.subnets) as string[],
  target_ips: row.target_ips === null ? null : (JSON.parse(row.target_ips) as string[]),
  ignore_offline_sites: row.ignore_offline_sites === 1,
  with_router: row.with_router === 1,
});

/** A host as the coverage statement counts it. */
export interface CoverageHostRow {
  ip: string;
  mac: string | null;
  hostname: string | null;
  role: string;
  found_by: string;
  state: 'pending' | 'done';
  probe_cuts: string;
  open_ports: number;
}

/** An open port whose service was seen without a product or a version. */
export interface UnversionedServiceRow {
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  service: string;
  product: string | null;
  version: string | null;
}

/** The protocol's final word for one site's run: a stopped run that kept results is 'stopped'. */
const finishedStatus = { completed: 'completed', partial: 'stopped', failed: 'failed' } as const;

/**
 * Scans and everything they find. Each write and its outbox report go in one transaction:
 * what is stored is reported, and what is reported is stored.
 */
export class ScanRepository {
  readonly #db: Db;
  readonly outbox: OutboxRepository;

  constructor(db: Db) {
    this.#db = db;
    this.outbox = new OutboxRepository(db);
  }

  /** `id`: the run id, when the caller derived something from it (the label). */
  create(scan: NewScan & { id?: string }, now: string): ScanRow {
    const id = scan.id ?? randomUUID();
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO scans (id, label, kind, schedule_id, slot_at, cp_scan_id, cp_sub_scan_id, site_id, subnets, target_ips,
             min_cvss, warning_threshold, ignore_offline_sites, with_router, origin, trigger, status, created_at)
           VALUES (@id, @label, @kind, @schedule_id, @slot_at, @cp_scan_id, @cp_sub_scan_id, @site_id, @subnets, @target_ips,
             @min_cvss, @warning_threshold, @ignore, @with_router, @origin, @trigger, 'queued', @now)`,
        )
        .run({
          ...scan,
          id,
          now,
          subnets: JSON.stringify(scan.subnets),
          target_ips: scan.target_ips ? JSON.stringify(scan.target_ips) : null,
          ignore: scan.ignore_offline_sites ? 1 : 0,
          with_router: scan.with_router ? 1 : 0,
          origin: scan.origin ?? null,
          trigger: scan.trigger ?? null,
        });
      this.#status(id, 'queued', now);
    })();
    return this.get(id) as ScanRow;
  }

  /** A run that will not happen: stored failed with its reason, and reported queued then failed, in one transaction. */
  createRefused(scan: NewScan, reason: string, now: string): ScanRow {
    return this.#db.transaction(() => {
      const row = this.create(scan, now);
      this.finish(row.id, 'failed', reason, now);
      return this.get(row.id) as ScanRow;
    })();
  }

  #status(id: string, status: 'queued' | 'scanning' | 'stopping' | 'paused', now: string, resumesAt?: string): void {
    const scan = this.get(id) as ScanRow;
    this.outbox.append({
      type: 'scan.status',
      at: now,
      run_id: id,
      status,
      ...(resumesAt !== undefined ? { resumes_at: resumesAt } : {}),
      schedule_id: scan.schedule_id,
      slot_at: scan.slot_at,
      scan_id: scan.cp_scan_id,
      sub_scan_id: scan.cp_sub_scan_id,
      subnets: scan.subnets,
      target_ips: scan.target_ips,
      min_cvss: scan.min_cvss,
      warning_threshold: scan.warning_threshold,
      ...(scan.origin === null ? {} : { origin: scan.origin, trigger: (scan.trigger ?? scan.origin).slice(0, 300) }),
    });
  }

  get(id: string): ScanRow | undefined {
    const row = this.#db.prepare<[string], ScanDbRow>('SELECT * FROM scans WHERE id = ?').get(id);
    return row ? toScan(row) : undefined;
  }

  /** The scans a reference names, newest first: a UUID is a run id or a control-plane scan id; a label may name more than one. */
  find(ref: ScanRef): ScanRow[] {
    const rows =
      ref.kind === 'uuid'
        ? this.#db
            .prepare<[string, string, string], ScanDbRow>(
              'SELECT * FROM scans WHERE id = ? OR cp_scan_id = ? ORDER BY id = ? DESC, created_at DESC, rowid DESC',
            )
            .all(ref.id, ref.id, ref.id)
        : this.#db.prepare<[string], ScanDbRow>('SELECT * FROM scans WHERE label = ? ORDER BY created_at DESC, rowid DESC').all(ref.label);
    return rows.map(toScan);
  }

  list(options: { scheduleId?: string; limit?: number } = {}): ScanRow[] {
    const rows = options.scheduleId
      ? this.#db
          .prepare<[string, number], ScanDbRow>('SELECT * FROM scans WHERE schedule_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
          .all(options.scheduleId, options.limit ?? 100)
      : this.#db.prepare<[number], ScanDbRow>('SELECT * FROM scans ORDER BY created_at DESC, rowid DESC LIMIT ?').all(options.limit ?? 100);
    return rows.map(toScan);
  }

  /** The scan of the same schedule before this one: the base of a report's delta. */
  previous(scan: ScanRow): ScanRow | undefined {
    if (scan.schedule_id === null) return undefined;
    const row = this.#db
      .prepare<[string, string, string], ScanDbRow>(
        "SELECT * FROM scans WHERE schedule_id = ? AND id != ? AND created_at <= ? AND status IN ('completed', 'partial') ORDER BY created_at DESC, rowid DESC LIMIT 1",
      )
      .get(scan.schedule_id, scan.id, scan.created_at);
    return row ? toScan(row) : undefined;
  }

  /** The scan a control-plane sub-scan already has here: a command replayed after a lost ack starts nothing new. */
  byCpSubScan(subScanId: string): ScanRow | undefined {
    const row = this.#db.prepare<[string], ScanDbRow>('SELECT * FROM scans WHERE cp_sub_scan_id = ?').get(subScanId);
    return row ? toScan(row) : undefined;
  }

  /** Whether a killed process left any scan going (cheap: the scans module loads nothing else for it). */
  hasUnfinished(): boolean {
    // A paused run is stored queued or scanning, so it counts: it resumes at its window.
    return this.#db.prepare("SELECT 1 FROM scans WHERE status IN ('queued', 'scanning') LIMIT 1").pluck().get() !== undefined;
  }

  /** Scans a killed process left going. */
  unfinished(): ScanRow[] {
    return this.#db.prepare<[], ScanDbRow>("SELECT * FROM scans WHERE status IN ('queued', 'scanning') ORDER BY created_at").all().map(toScan);
  }

  /**
   * The run waits for its window (`until`, UTC ISO): it keeps its stored status and hosts (pending
   * ones stay pending, the resume checkpoint), shows 'paused', and the control plane hears why.
   */
  pause(id: string, until: string, event: string, now: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE scans SET paused_until = ?, checkpoint_at = ? WHERE id = ?').run(until, now, id);
      this.#status(id, 'paused', now, until);
      this.event(id, 'info', event, now);
    })();
  }

  start(id: string, now: string): void {
    this.#db.transaction(() => {
      this.#db
        .prepare("UPDATE scans SET status = 'scanning', paused_until = NULL, started_at = COALESCE(started_at, ?), checkpoint_at = ? WHERE id = ?")
        .run(now, now, id);
      this.#status(id, 'scanning', now);
    })();
  }

  requestStop(id: string, now: string): void {
    this.#db.transaction(() => {
      const changed = this.#db
        .prepare("UPDATE scans SET stop_requested_at = ? WHERE id = ? AND stop_requested_at IS NULL AND status IN ('queued', 'scanning')")
        .run(now, id).changes;
      if (changed > 0) this.#status(id, 'stopping', now);
    })();
  }

  event(id: string, level: 'info' | 'warning' | 'error', message: string, now: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO scan_events (scan_id, time, level, message) VALUES (?, ?, ?, ?)').run(id, now, level, message);
      this.outbox.append({ type: 'scan.event', at: now, run_id: id, level, message: message.slice(0, 500) });
    })();
  }

  events(id: string): { time: string; level: string; message: string }[] {
    return this.#db
      .prepare<[string], { time: string; level: string; message: string }>('SELECT time, level, message FROM scan_events WHERE scan_id = ? ORDER BY id')
      .all(id);
  }

  progress(id: string, fields: { progress: number; stage: string; hosts_total: number | null; hosts_done: number }, now: string, report: boolean): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('UPDATE scans SET progress = MAX(progress, ?), stage = ?, hosts_total = ?, hosts_done = ?, checkpoint_at = ? WHERE id = ?')
        .run(Math.floor(fields.progress), fields.stage, fields.hosts_total, fields.hosts_done, now, id);
      if (report) {
        this.outbox.append({
          type: 'scan.progress',
          at: now,
          run_id: id,
          percent: Math.floor(fields.progress),
          hosts_done: fields.hosts_done,
          hosts_total: fields.hosts_total ?? 0,
        });
      }
    })();
  }

  /** What the run noted for its coverage statement so far. */
  notes(id: string): RunNotes {
    const raw = this.#db.prepare<[string], string>('SELECT run_notes FROM scans WHERE id = ?').pluck().get(id);
    return raw === undefined ? {} : (JSON.parse(raw) as RunNotes);
  }

  /** Adds to (or replaces parts of) the run's notes. */
  addNotes(id: string, notes: RunNotes): void {
    this.#db.prepare('UPDATE scans SET run_notes = ? WHERE id = ?').run(JSON.stringify({ ...this.notes(id), ...notes }), id);
  }

  /** The run's hosts as the coverage statement counts them: how each was found and how many ports it had open. */
  coverageHosts(scanId: string): CoverageHostRow[] {
    return this.#db
      .prepare<[string], CoverageHostRow>(
        `SELECT h.ip, h.mac, h.hostname, h.role, h.found_by, h.state, h.probe_cuts,
           (SELECT count(*) FROM scan_services s WHERE s.host_id = h.id AND s.port IS NOT NULL) AS open_ports
         FROM scan_hosts h WHERE h.scan_id = ?`,
      )
      .all(scanId);
  }

  /** Open ports of the run whose service was seen without a product or a version. */
  unversionedServices(scanId: string): UnversionedServiceRow[] {
    return this.#db
      .prepare<[string], UnversionedServiceRow>(
        `SELECT h.ip, s.port, s.protocol, s.service, s.product, s.version FROM scan_services s JOIN scan_hosts h ON h.id = s.host_id
         WHERE h.scan_id = ? AND h.state = 'done' AND s.port IS NOT NULL AND (s.product IS NULL OR s.version IS NULL)`,
      )
      .all(scanId);
  }

  /** The run's coverage statement as it stands. */
  coverage(id: string): Coverage | undefined {
    const scan = this.get(id);
    return scan ? scanCoverage(this, scan) : undefined;
  }

  setRouterState(id: string, state: string): void {
    this.#db.prepare('UPDATE scans SET router_state = ? WHERE id = ?').run(state, id);
  }

  /** The router answered: the run notes it online, and its inventory is queued for the control plane, in one transaction. */
  routerRead(id: string, inventory: Extract<OutgoingReport, { type: 'inventory' }>): void {
    this.#db.transaction(() => {
      this.setRouterState(id, 'online');
      this.outbox.append(inventory);
    })();
  }

  /** The discovery checkpoint: every live host is known before any is probed. */
  addPendingHosts(scanId: string, hosts: readonly Pick<HostRecord, 'ip' | 'found_by'>[]): void {
    const insert = this.#db.prepare(
      "INSERT INTO scan_hosts (id, scan_id, ip, found_by, state) VALUES (?, ?, ?, ?, 'pending') ON CONFLICT (scan_id, ip) DO NOTHING",
    );
    this.#db.transaction(() => {
      for (const host of hosts) insert.run(randomUUID(), scanId, host.ip, host.found_by);
    })();
  }

  hostsByState(scanId: string, state: 'pending' | 'done'): { id: string; ip: string; found_by: string }[] {
    return this.#db
      .prepare<[string, string], { id: string; ip: string; found_by: string }>(
        'SELECT id, ip, found_by FROM scan_hosts WHERE scan_id = ? AND state = ? ORDER BY ip',
      )
      .all(scanId, state);
  }

  /**
   * Stores one probed host, its services and findings, and their reports, in one transaction.
   * A finding already stored (a resumed scan redoing a host) is neither stored nor sent again.
   */
  completeHost(scan: ScanRow, host: HostRecord, findings: readonly StoredFinding[], now: string): { findingsAdded: number } {
    return this.completeHosts(scan, [{ host, findings }], now);
  }

  /** Several hosts in one transaction: one fsync for a batch of hosts that had nothing to report. */
  completeHosts(scan: ScanRow, batch: readonly { host: HostRecord; findings: readonly StoredFinding[] }[], now: string): { findingsAdded: number } {
    let findingsAdded = 0;
    this.#db.transaction(() => {
      for (const { host, findings } of batch) findingsAdded += this.#writeHost(scan, host, findings, now);
      this.#db
        .prepare("UPDATE scans SET hosts_done = (SELECT count(*) FROM scan_hosts WHERE scan_id = ? AND state = 'done'), checkpoint_at = ? WHERE id = ?")
        .run(scan.id, now, scan.id);
    })();
    return { findingsAdded };
  }

  #writeHost(scan: ScanRow, host: HostRecord, findings: readonly StoredFinding[], now: string): number {
    let findingsAdded = 0;
    const existing = this.#db.prepare<[string, string], { id: string }>('SELECT id FROM scan_hosts WHERE scan_id = ? AND ip = ?').get(scan.id, host.ip);
    const hostId = existing?.id ?? randomUUID();
    this.#db
      .prepare(
        `INSERT INTO scan_hosts (id, scan_id, ip, mac, hostname, manufacturer, randomized_mac, role, sources, found_by, state, done_at, probe_cuts)
         VALUES (@id, @scan_id, @ip, @mac, @hostname, @manufacturer, @randomized, @role, @sources, @found_by, 'done', @now, @probe_cuts)
         ON CONFLICT (scan_id, ip) DO UPDATE SET mac = excluded.mac, hostname = excluded.hostname, manufacturer = excluded.manufacturer,
           randomized_mac = excluded.randomized_mac, role = excluded.role, sources = excluded.sources, state = 'done', done_at = excluded.done_at,
           probe_cuts = CASE WHEN excluded.probe_cuts = '[]' THEN probe_cuts ELSE excluded.probe_cuts END`,
      )
      .run({
        ...host,
        id: hostId,
        scan_id: scan.id,
        randomized: host.randomized_mac ? 1 : 0,
        sources: JSON.stringify(host.sources),
        probe_cuts: JSON.stringify(host.probe_cuts ?? ([] as ProbeCut[])),
        now,
      });
    const insertService = this.#db.prepare(
      `INSERT INTO scan_services (id, host_id, port, protocol, service, product, vendor, version, version_update, distro, cpe, confidence, evidence)
       VALUES (@id, @host_id, @port, @protocol, @service, @product, @vendor, @version, @update, @distro, @cpe, @confidence, @evidence)
       ON CONFLICT (host_id, port, protocol) DO NOTHING`,
    );
    for (const service of host.services) insertService.run({ ...service, id: randomUUID(), host_id: hostId });
    this.outbox.append({
      type: 'host',
      at: now,
      run_id: scan.id,
      ip: host.ip,
      mac: host.mac,
      hostname: host.hostname,
      manufacturer: host.manufacturer,
      sources: host.sources,
      open_ports: host.services
        .filter((service) => service.port !== null)
        .map((service) => ({
          port: service.port as number,
          protocol: service.protocol ?? 'tcp',
          service: service.service,
          product: service.product,
          version: service.version,
          cpe: service.cpe,
        })),
      os: null,
    });
    const insertFinding = this.#db.prepare(
      `INSERT INTO findings (id, scan_id, host_id, cve_id, score, severity, vector, cvss_version, cpe, product, version_used, port, protocol,
         confidence, confidence_level, evidence, fixed_in, possibly_backported, assumptions, warning, advice, description, published_at, created_at,
         distro_status, distro_name, distro_release, distro_package, distro_installed_version, distro_fixed_version, distro_ref, distro_url, distro_reason,
         kev_date_added, kev_due_date, kev_ransomware, epss_score, epss_percentile, epss_date, exposure, exposure_reasons, exposure_unknown, why)
       VALUES (@id, @scan_id, @host_id, @cve_id, @score, @severity, @vector, @cvss_version, @cpe, @product, @version_used, @port, @protocol,
         @confidence, @confidence_level, @evidence, @fixed_in, @backported, @assumptions, @warning_flag, @advice, @description, @published_at, @now,
         @distro_status, @distro_name, @distro_release, @distro_package, @distro_installed_version, @distro_fixed_version, @distro_ref, @distro_url, @distro_reason,
         @kev_date_added, @kev_due_date, @kev_ransomware, @epss_score, @epss_percentile, @epss_date, @exposure_state, @exposure_reasons, @exposure_unknown, @why_json)
       ON CONFLICT DO NOTHING`,
    );
    for (const finding of findings) {
      const { distro, kev, epss, exposure, why, ...plain } = finding;
      const inserted = insertFinding.run({
        ...plain,
        distro_status: distro?.status ?? null,
        distro_name: distro?.distro ?? null,
        distro_release: distro?.release ?? null,
        distro_package: distro?.package ?? null,
        distro_installed_version: distro?.installed_version ?? null,
        distro_fixed_version: distro?.fixed_version ?? null,
        distro_ref: distro?.ref ?? null,
        distro_url: distro?.url ?? null,
        distro_reason: distro?.reason ?? null,
        kev_date_added: kev?.date_added ?? null,
        kev_due_date: kev?.due_date ?? null,
        kev_ransomware: kev === null ? null : kev.ransomware ? 1 : 0,
        epss_score: epss?.score ?? null,
        epss_percentile: epss?.percentile ?? null,
        epss_date: epss?.date ?? null,
        exposure_state: exposure.state,
        exposure_reasons: JSON.stringify(exposure.reasons),
        exposure_unknown: exposure.unknown_reason,
        why_json: JSON.stringify(why),
        id: randomUUID(),
        scan_id: scan.id,
        host_id: hostId,
        backported: finding.possibly_backported ? 1 : 0,
        assumptions: JSON.stringify(finding.assumptions),
        warning_flag: finding.warning ? 1 : 0,
        now,
      }).changes;
      if (inserted === 0) continue;
      findingsAdded += 1;
      this.outbox.append({
        type: 'finding',
        at: now,
        run_id: scan.id,
        ip: host.ip,
        mac: host.mac,
        port: finding.port,
        protocol: finding.protocol,
        service: finding.service,
        cpe: finding.cpe,
        product: finding.product,
        version: finding.version_used,
        confidence: finding.confidence_level,
        evidence: finding.evidence.slice(0, 2000),
        cve: {
          id: finding.cve_id,
          description: finding.description.slice(0, 4000),
          published_at: finding.published_at,
          vector: finding.vector,
          score: finding.score,
          severity: finding.severity,
          compliance_tags: [],
          references: finding.references.slice(0, 50),
          fixed_versions: finding.fixed_in ? [finding.fixed_in] : [],
          advice: finding.advice,
        },
        ...(distro ? { distro: clampVerdict(distro) } : {}),
        kev,
        epss,
        exposure: {
          state: exposure.state,
          reasons: exposure.reasons.slice(0, 20).map((reason) => ({ kind: reason.kind, detail: reason.detail.slice(0, 300) })),
        },
        why: why.slice(0, 20).map((line) => line.slice(0, 300)),
      });
    }
    return findingsAdded;
  }

  /** The hosts a report shows: those done. */
  doneHosts(scanId: string): DoneHostRow[] {
    return this.#db
      .prepare<[string], DoneHostRow>(
        "SELECT id, ip, mac, hostname, manufacturer, role, randomized_mac, sources FROM scan_hosts WHERE scan_id = ? AND state = 'done'",
      )
      .all(scanId);
  }

  servicesOfHost<Row>(hostId: string): Row[] {
    return this.#db
      .prepare<[string], Row>(
        'SELECT port, protocol, service, product, version, cpe, confidence, evidence FROM scan_services WHERE host_id = ? ORDER BY protocol, port',
      )
      .all(hostId);
  }

  /** Every column of the host's findings, highest score first. */
  findingsOfHost<Row>(hostId: string): Row[] {
    return this.#db.prepare<[string], Row>('SELECT * FROM findings WHERE host_id = ? ORDER BY score DESC, cve_id').all(hostId);
  }

  finish(id: string, status: Exclude<ScanStatus, 'queued' | 'scanning' | 'paused'>, error: string | null, now: string): void {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          "UPDATE scans SET status = ?, error = ?, finished_at = ?, paused_until = NULL, progress = CASE WHEN ? = 'completed' THEN 100 ELSE progress END WHERE id = ?",
        )
        .run(status, error, now, status, id);
      const counts = this.#db
        .prepare<[string, string], { hosts: number; findings: number }>(
          "SELECT (SELECT count(*) FROM scan_hosts WHERE scan_id = ? AND state = 'done') AS hosts, (SELECT count(*) FROM findings WHERE scan_id = ?) AS findings",
        )
        .get(id, id) as { hosts: number; findings: number };
      this.outbox.append({
        type: 'scan.finished',
        at: now,
        run_id: id,
        status: finishedStatus[status],
        error: error?.slice(0, 1000) ?? null,
        hosts_scanned: counts.hosts,
        findings_sent: counts.findings,
        coverage: this.coverage(id),
      });
    })();
  }
}

/** The verdict within the protocol's bounds (protocol/messages/reports.ts). */
function clampVerdict(verdict: DistroVerdict): DistroVerdict {
  return {
    ...verdict,
    release: verdict.release?.slice(0, 50) ?? null,
    package: verdict.package.slice(0, 100),
    installed_version: verdict.installed_version?.slice(0, 100) ?? null,
    fixed_version: verdict.fixed_version?.slice(0, 100) ?? null,
    ref: verdict.ref.slice(0, 300),
    url: verdict.url.slice(0, 500),
    reason: verdict.reason.slice(0, 500),
  };
}

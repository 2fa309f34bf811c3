/**
 * One ingest batch's work on PostgreSQL: the reports are judged in order in memory and their rows
 * written at the end, one statement per table (hosts, ports, CVEs, findings, events, ...), instead
 * of one round trip per row. What the reports need from the database (their runs' sub-scans, the
 * hosts already stored) is read once up front. Rows that every node may touch (a CVE's record, a
 * scan's counters) are written in key order, so two nodes' batches wait for each other and never
 * deadlock. The rare reports that move a sub-scan (scan.status, scan.finished) write at once.
 */
import type { Finding, HostReport, Report } from '../../../protocol/index.js';
import type { IngestItem } from '../types.js';
import { toJson } from '../json.js';
import { uuidv7 } from '../uuidv7.js';
import type { Queryable } from './db.js';
import { byKey, insertRows, rowsOf } from './bulk.js';
import { writeCves } from './cves.js';
import { watchFindings, type WatchedFinding } from './finding-watch.js';
import { IngestRejection, resolveRun, type SubRef } from './ingest-runs.js';
import { lockScans, PgTallies } from './tallies.js';

const finalStatuses: readonly string[] = ['completed', 'stopped'];

const findingColumns = [
  'id',
  'org_id',
  'scan_id',
  'sub_scan_id',
  'site_id',
  'host_id',
  'mac',
  'ip',
  'cve_id',
  'score',
  'port',
  'protocol',
  'service',
  'cpe',
  'product',
  'version',
  'confidence',
  'evidence',
  'created_at',
  'distro',
  'distro_status',
  'kev',
  'epss',
  'exposure',
  'why',
] as const;
const hostColumns = [
  'id',
  'scan_id',
  'sub_scan_id',
  'site_id',
  'ip',
  'mac',
  'hostname',
  'manufacturer',
  'os',
  'sources',
  'open_ports',
  'port_count',
  'created_at',
];

interface HostWrite {
  id: string;
  scan_id: string;
  sub_scan_id: string;
  site_id: string;
  ip: string;
  mac: string | null;
  hostname: string | null;
  manufacturer: string | null;
  os: string | null;
  sources: string;
  open_ports: string;
  port_count: number;
  created_at: string;
}

type FindingWrite = Record<(typeof findingColumns)[number], unknown> & { host_key: string };

/** The runs and sub-scans a batch's reports name, locked in id order (the order every writer of sub-scans takes). */
async function prefetchSubs(client: Queryable, items: readonly IngestItem[]): Promise<Map<string, SubRef>> {
  const runs = new Set<string>();
  const subIds = new Set<string>();
  for (const { report: m } of items) {
    if ('run_id' in m && m.run_id !== null) runs.add(m.run_id);
    if (m.type === 'scan.status' && m.sub_scan_id !== null) subIds.add(m.sub_scan_id);
  }
  const rows = await client.query<SubRef & { run_id: string | null }>(
    'SELECT id, scan_id, site_id, status, run_id FROM sub_scans WHERE run_id = ANY($1::text[]) OR id = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE',
    [[...runs], [...subIds]],
  );
  const byRun = new Map<string, SubRef>();
  for (const { run_id, ...sub } of rows.rows) if (run_id !== null) byRun.set(run_id, sub);
  return byRun;
}

export class IngestBatch {
  readonly #client: Queryable;
  #runs = new Map<string, SubRef>();
  /** `<sub_scan_id> <ip>` → the host row's id, stored or to be written. */
  readonly #hostIds = new Map<string, string>();
  readonly #hosts = new Map<string, HostWrite>();
  readonly #ports = new Map<string, { scan_id: string; port: number }>();
  readonly #cves = new Map<string, Record<string, unknown>>();
  readonly #facts = new Map<string, Record<string, unknown>>();
  readonly #findings: FindingWrite[] = [];
  readonly #watched: WatchedFinding[] = [];
  readonly #progress = new Map<string, { id: string; progress: number; hosts_done: number; hosts_total: number }>();
  readonly #events: { scan_id: string; site_id: string | null; at: string; level: string; message: string }[] = [];
  readonly #inventories: { site_id: string; run_id: string | null; sub_scan_id: string | null; at: string; body: string }[] = [];
  readonly #tallies = new PgTallies();
  /** Scans whose status may have moved. */
  readonly touched = new Set<string>();

  constructor(client: Queryable) {
    this.#client = client;
  }

  /** Reads what the reports need: their sub-scans and the hosts of those already stored. */
  async prefetch(items: readonly IngestItem[]): Promise<void> {
    this.#runs = await prefetchSubs(this.#client, items);
    const keys: { sub: string; ip: string }[] = [];
    for (const { report: m } of items) {
      if (m.type !== 'host' && m.type !== 'finding') continue;
      const sub = this.#runs.get(m.run_id);
      if (sub) keys.push({ sub: sub.id, ip: m.ip });
    }
    if (keys.length === 0) return;
    const rows = await this.#client.query<{ id: string; sub_scan_id: string; ip: string }>(
      `SELECT h.id, h.sub_scan_id, h.ip FROM hosts h JOIN unnest($1::text[], $2::text[]) AS k (sub, ip) ON h.sub_scan_id = k.sub AND h.ip = k.ip`,
      [keys.map((k) => k.sub), keys.map((k) => k.ip)],
    );
    for (const row of rows.rows) this.#hostIds.set(`${row.sub_scan_id} ${row.ip}`, row.id);
  }

  #subOf(item: IngestItem, runId: string): SubRef {
    const sub = this.#runs.get(runId);
    if (!sub) throw new IngestRejection(`unknown run ${runId}: its scan.status must come first`);
    if (sub.site_id !== item.site.id) throw new IngestRejection(`run ${runId} belongs to another site`);
    return sub;
  }

  /** A host row for the finding's address: stored, pending, or a new one with what the finding knows. */
  #hostKey(sub: SubRef, m: HostReport | Finding, at: string): string {
    const key = `${sub.id} ${m.ip}`;
    if (this.#hostIds.has(key)) return key;
    const id = uuidv7();
    this.#hostIds.set(key, id);
    this.#hosts.set(key, {
      id,
      scan_id: sub.scan_id,
      sub_scan_id: sub.id,
      site_id: sub.site_id,
      ip: m.ip,
      mac: m.mac,
      hostname: null,
      manufacturer: null,
      os: null,
      sources: '[]',
      open_ports: '[]',
      port_count: 0,
      created_at: at,
    });
    return key;
  }

  /** Applies one report in memory (or at once, for a sub-scan's status); answers its scan. */
  async apply(item: IngestItem): Promise<string | undefined> {
    const m: Report = item.report;
    const at = item.received_at;
    switch (m.type) {
      case 'scan.status': {
        let sub = this.#runs.get(m.run_id);
        if (!sub) {
          sub = await resolveRun(this.#client, item, m);
          this.#runs.set(m.run_id, sub);
        }
        if (sub.site_id !== item.site.id) throw new IngestRejection(`run ${m.run_id} belongs to another site`);
        if (finalStatuses.includes(sub.status)) {
          // Final: later statuses change nothing.
        } else if (m.status === 'paused') {
          // A run waiting for its window keeps its status; paused_until says until when (the agent's resumes_at).
          await this.#client.query('UPDATE sub_scans SET paused_until = $1 WHERE id = $2', [m.resumes_at ?? m.at, sub.id]);
        } else {
          await this.#client.query(
            'UPDATE sub_scans SET status = $1, started_at = COALESCE(started_at, $2), finished_at = NULL, paused_until = NULL WHERE id = $3',
            [m.status, m.status === 'scanning' ? m.at : null, sub.id],
          );
          sub.status = m.status;
        }
        this.touched.add(sub.scan_id);
        return sub.scan_id;
      }
      case 'scan.progress': {
        const sub = this.#subOf(item, m.run_id);
        this.#progress.set(sub.id, { id: sub.id, progress: m.percent, hosts_done: m.hosts_done, hosts_total: m.hosts_total });
        return sub.scan_id;
      }
      case 'scan.event': {
        const sub = this.#subOf(item, m.run_id);
        this.#events.push({ scan_id: sub.scan_id, site_id: sub.site_id, at: m.at, level: m.level, message: m.message });
        return sub.scan_id;
      }
      case 'host': {
        const sub = this.#subOf(item, m.run_id);
        this.#host(sub, m, at);
        for (const open of m.open_ports) this.#ports.set(`${sub.scan_id} ${open.port}`, { scan_id: sub.scan_id, port: open.port });
        return sub.scan_id;
      }
      case 'finding': {
        this.#finding(item, m, this.#subOf(item, m.run_id));
        return this.#runs.get(m.run_id)?.scan_id;
      }
      case 'scan.finished': {
        const sub = this.#subOf(item, m.run_id);
        // A progress report before it in this batch is written first: the finish sets progress to 100.
        const progress = this.#progress.get(sub.id);
        if (progress) {
          await this.#writeProgress([progress]);
          this.#progress.delete(sub.id);
        }
        const finished = await this.#client.query<{ findings_received: number }>(
          `UPDATE sub_scans SET status = $1, error = $2, findings_expected = $3, hosts_done = GREATEST(hosts_done, $4), progress = 100, finished_at = $5,
             coverage = $6, paused_until = NULL WHERE id = $7 RETURNING findings_received`,
          [m.status, m.error, m.findings_sent, m.hosts_scanned, m.at, m.coverage === undefined ? null : toJson(m.coverage), sub.id],
        );
        sub.status = m.status;
        const held = (finished.rows[0]?.findings_received ?? 0) + this.#tallies.pendingFor(sub.id);
        if (held !== m.findings_sent)
          this.#events.push({
            scan_id: sub.scan_id,
            site_id: sub.site_id,
            at,
            level: 'warning',
            message: `the agent sent ${m.findings_sent} findings, the control plane holds ${held}`,
          });
        this.touched.add(sub.scan_id);
        return sub.scan_id;
      }
      case 'inventory': {
        // A run's inventory belongs to its sub-scan; an unknown or foreign run is quarantined like any other report.
        const sub = m.run_id === null ? undefined : this.#subOf(item, m.run_id);
        this.#inventories.push({
          site_id: item.site.id,
          run_id: m.run_id,
          sub_scan_id: sub?.id ?? null,
          at: m.at,
          body: toJson({ router: m.router, hosts: m.hosts, neighbors: m.neighbors }),
        });
        return sub?.scan_id;
      }
    }
  }

  /** A host report: merged into the host's pending row as the stored one would be updated (COALESCE for names, the rest replaced). */
  #host(sub: SubRef, m: HostReport, at: string): void {
    const key = `${sub.id} ${m.ip}`;
    const pending = this.#hosts.get(key);
    const row: HostWrite = {
      id: this.#hostIds.get(key) ?? uuidv7(),
      scan_id: sub.scan_id,
      sub_scan_id: sub.id,
      site_id: sub.site_id,
      ip: m.ip,
      mac: m.mac ?? pending?.mac ?? null,
      hostname: m.hostname ?? pending?.hostname ?? null,
      manufacturer: m.manufacturer ?? pending?.manufacturer ?? null,
      os: m.os ?? pending?.os ?? null,
      sources: toJson(m.sources),
      open_ports: toJson(m.open_ports),
      port_count: m.open_ports.length,
      created_at: pending?.created_at ?? at,
    };
    this.#hostIds.set(key, row.id);
    this.#hosts.set(key, row);
  }

  #finding(item: IngestItem, m: Finding, sub: SubRef): void {
    const at = item.received_at;
    const hostKey = this.#hostKey(sub, m, at);
    const { cve } = m;
    // The CVE's public record is global; what the agent derived for the device is its organization's own. The batch's first wins, as in SQLite.
    if (!this.#cves.has(cve.id)) {
      const { fixed_versions: _f, advice: _a, references, ...record } = cve;
      this.#cves.set(cve.id, { ...record, compliance_tags: toJson(cve.compliance_tags), refs: toJson(references), updated_at: at });
    }
    const factsKey = `${item.site.org_id} ${cve.id}`;
    if (!this.#facts.has(factsKey))
      this.#facts.set(factsKey, { org_id: item.site.org_id, cve_id: cve.id, fixed_versions: toJson(cve.fixed_versions), advice: cve.advice, updated_at: at });
    const id = uuidv7();
    const optional = (value: unknown) => (value === undefined ? null : toJson(value));
    this.#findings.push({
      id,
      org_id: item.site.org_id,
      scan_id: sub.scan_id,
      sub_scan_id: sub.id,
      site_id: sub.site_id,
      host_id: null,
      host_key: hostKey,
      mac: m.mac,
      ip: m.ip,
      cve_id: cve.id,
      score: cve.score,
      port: m.port,
      protocol: m.protocol,
      service: m.service,
      cpe: m.cpe,
      product: m.product,
      version: m.version,
      confidence: m.confidence,
      evidence: m.evidence,
      created_at: at,
      distro: optional(m.distro),
      distro_status: m.distro?.status ?? null,
      kev: optional(m.kev),
      epss: optional(m.epss),
      exposure: optional(m.exposure),
      why: optional(m.why),
    });
    // Patched by the distribution: stored and received, never counted as a vulnerability.
    const patched = m.distro?.status === 'fixed' || m.distro?.status === 'not-affected';
    this.#tallies.add({ host: hostKey, mac: m.mac, sub: sub.id, scan: sub.scan_id, cve: cve.id, score: cve.score, counted: !patched });
    this.#watched.push({ org_id: item.site.org_id, site_id: sub.site_id, scan_id: sub.scan_id, id, report: m, at });
  }

  async #writeProgress(rows: readonly object[]): Promise<void> {
    await this.#client.query(
      `UPDATE sub_scans s SET progress = r.progress, hosts_done = r.hosts_done, hosts_total = r.hosts_total
       FROM (${rowsOf('sub_scans', ['id', 'progress', 'hosts_done', 'hosts_total'])}) r WHERE s.id = r.id`,
      [JSON.stringify(rows)],
    );
  }

  /** Writes the batch's rows (not yet the scans' counters); answers the number of finding alerts raised. */
  async writeRows(): Promise<number> {
    const client = this.#client;
    const hosts = [...this.#hosts.values()].sort((a, b) => byKey(a.sub_scan_id, b.sub_scan_id) || byKey(a.ip, b.ip));
    const stored = await insertRows<{ id: string; sub_scan_id: string; ip: string }>(
      client,
      'hosts',
      hostColumns,
      hosts,
      `ON CONFLICT (sub_scan_id, ip) DO UPDATE SET mac = COALESCE(excluded.mac, hosts.mac), hostname = COALESCE(excluded.hostname, hosts.hostname),
         manufacturer = COALESCE(excluded.manufacturer, hosts.manufacturer), os = COALESCE(excluded.os, hosts.os), sources = excluded.sources,
         open_ports = excluded.open_ports, port_count = excluded.port_count
       RETURNING id, sub_scan_id, ip`,
    );
    for (const row of stored) this.#hostIds.set(`${row.sub_scan_id} ${row.ip}`, row.id);
    const ports = [...this.#ports.values()].sort((a, b) => byKey(a.scan_id, b.scan_id) || a.port - b.port);
    await insertRows(client, 'scan_ports', ['scan_id', 'port'], ports, 'ON CONFLICT DO NOTHING');
    await writeCves(client, this.#cves, this.#facts);
    await insertRows(
      client,
      'findings',
      findingColumns,
      this.#findings.map(({ host_key, ...row }) => ({ ...row, host_id: this.#hostIds.get(host_key) })),
    );
    if (this.#progress.size > 0) await this.#writeProgress([...this.#progress.values()].sort((a, b) => byKey(a.id, b.id)));
    await insertRows(client, 'scan_events', ['scan_id', 'site_id', 'at', 'level', 'message'], this.#events);
    await insertRows(client, 'inventories', ['site_id', 'run_id', 'sub_scan_id', 'at', 'body'], this.#inventories);
    return watchFindings(client, this.#watched);
  }

  /**
   * The scans' counters, their rows locked first in id order with the scans whose status may have
   * moved: the one lock every node's batch of a scan waits for, so it is taken last, just before
   * the commit. The caller then recomputes `touched`.
   */
  async writeCounters(): Promise<void> {
    const thresholds = await lockScans(this.#client, [...this.#tallies.scans(), ...this.touched]);
    await this.#tallies.write(this.#client, this.#hostIds, thresholds);
  }
}

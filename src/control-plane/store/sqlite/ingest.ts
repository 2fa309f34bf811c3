/**
 * Applies agent reports. A batch is one transaction; each report is applied in its own savepoint
 * at most once per (site, stream, seq): the stream's high-water mark moves in the same
 * transaction, so a replay after any failure is recognised and only acknowledged again.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../../shared/sqlite.js';
import type { Finding, HostReport, Report, ScanStatus as ScanStatusReport } from '../../../protocol/index.js';
import { scanKeyOf, scanLabelOf } from '../../../shared/scan-label.js';
import type { IngestItem, IngestResult, IngestStore, SubScanStatus } from '../types.js';
import { toJson } from '../json.js';
import type { ScanState } from './scan-state.js';
import { Tallies } from './tallies.js';
import { scheduleRunMarker } from './scans.js';
import { uuidv7 } from '../uuidv7.js';
import { findingWatch } from './finding-watch.js';

/** A report that is well-formed but cannot be applied: it is quarantined, acknowledged and reported back. */
export class IngestRejection extends Error {}

interface SubRef {
  id: string;
  scan_id: string;
  site_id: string;
  status: SubScanStatus;
}

const finalStatuses: readonly SubScanStatus[] = ['completed', 'stopped'];

export function sqliteIngest(db: Db, state: ScanState): IngestStore {
  const streamSeq = db.prepare<[string, string], number>('SELECT last_seq FROM streams WHERE site_id = ? AND stream_id = ?').pluck();
  const saveStream = db.prepare(
    'INSERT INTO streams (site_id, stream_id, last_seq, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at',
  );
  const quarantine = db.prepare('INSERT INTO ingest_rejects (site_id, stream_id, seq, body, reason, at) VALUES (?, ?, ?, ?, ?, ?)');
  const subByRun = db.prepare<[string], SubRef>('SELECT id, scan_id, site_id, status FROM sub_scans WHERE run_id = ?');
  const subById = db.prepare<[string, string], SubRef & { run_id: string | null; org_id: string }>(
    'SELECT s.id, s.scan_id, s.site_id, s.status, s.run_id, c.org_id FROM sub_scans s JOIN scans c ON c.id = s.scan_id WHERE s.id = ? AND s.scan_id = ?',
  );
  const subOfScanSite = db.prepare<[string, string], SubRef & { run_id: string | null }>(
    'SELECT id, scan_id, site_id, status, run_id FROM sub_scans WHERE scan_id = ? AND site_id = ?',
  );
  const scanBySlot = db.prepare<[string, string], { id: string; org_id: string }>('SELECT id, org_id FROM scans WHERE schedule_id = ? AND slot_at = ?');
  const scheduleOf = db.prepare<
    [string],
    { org_id: string; min_cvss: number; warning_threshold: number; ignore_offline_sites: number; notification_group: string }
  >('SELECT org_id, min_cvss, warning_threshold, ignore_offline_sites, notification_group FROM schedules WHERE id = ?');
  const insertScan = db.prepare(
    `INSERT INTO scans (id, org_id, schedule_id, slot_at, kind, label, min_cvss, warning_threshold, ignore_offline_sites, notification_group, status, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
  );
  const setOrigin = db.prepare('UPDATE scans SET origin = ?, trigger = ? WHERE id = ?');
  const insertSub = db.prepare(
    `INSERT INTO sub_scans (id, scan_id, site_id, run_id, subnets, target_ips, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)`,
  );
  const attachRun = db.prepare('UPDATE sub_scans SET run_id = ?, subnets = ?, target_ips = COALESCE(?, target_ips) WHERE id = ?');
  const setSubStatus = db.prepare(
    'UPDATE sub_scans SET status = ?, started_at = COALESCE(started_at, ?), finished_at = NULL, paused_until = NULL WHERE id = ?',
  );
  // A run waiting for its window keeps its status; paused_until says until when (the agent's resumes_at).
  const pauseSub = db.prepare('UPDATE sub_scans SET paused_until = ? WHERE id = ?');
  const progress = db.prepare('UPDATE sub_scans SET progress = ?, hosts_done = ?, hosts_total = ? WHERE id = ?');
  const event = db.prepare('INSERT INTO scan_events (scan_id, site_id, at, level, message) VALUES (?, ?, ?, ?, ?)');
  const upsertHost = db.prepare(
    `INSERT INTO hosts (id, scan_id, sub_scan_id, site_id, ip, mac, hostname, manufacturer, os, sources, open_ports, port_count, created_at)
     VALUES (@id, @scan_id, @sub_scan_id, @site_id, @ip, @mac, @hostname, @manufacturer, @os, @sources, @open_ports, @port_count, @created_at)
     ON CONFLICT (sub_scan_id, ip) DO UPDATE SET mac = COALESCE(excluded.mac, mac), hostname = COALESCE(excluded.hostname, hostname),
       manufacturer = COALESCE(excluded.manufacturer, manufacturer), os = COALESCE(excluded.os, os), sources = excluded.sources,
       open_ports = excluded.open_ports, port_count = excluded.port_count`,
  );
  const hostId = db.prepare<[string, string], string>('SELECT id FROM hosts WHERE sub_scan_id = ? AND ip = ?').pluck();
  const scanPort = db.prepare('INSERT OR IGNORE INTO scan_ports (scan_id, port) VALUES (?, ?)');
  // The CVE's public record is global; what the agent derived for the device is its organization's own.
  const upsertCve = db.prepare(
    `INSERT INTO cves (id, description, published_at, vector, score, severity, compliance_tags, refs, updated_at)
     VALUES (@id, @description, @published_at, @vector, @score, @severity, @compliance_tags, @refs, @updated_at)
     ON CONFLICT (id) DO UPDATE SET description = excluded.description, published_at = excluded.published_at, vector = excluded.vector,
       score = excluded.score, severity = excluded.severity, compliance_tags = excluded.compliance_tags, refs = excluded.refs,
       updated_at = excluded.updated_at`,
  );
  const upsertOrgFacts = db.prepare(
    `INSERT INTO org_cve_facts (org_id, cve_id, fixed_versions, advice, updated_at) VALUES (@org_id, @cve_id, @fixed_versions, @advice, @updated_at)
     ON CONFLICT (org_id, cve_id) DO UPDATE SET fixed_versions = excluded.fixed_versions, advice = COALESCE(excluded.advice, advice),
       updated_at = excluded.updated_at`,
  );
  const insertFinding = db.prepare(
    `INSERT INTO findings (id, org_id, scan_id, sub_scan_id, site_id, host_id, mac, ip, cve_id, score, port, protocol, service, cpe, product, version, confidence, evidence, created_at,
       distro, distro_status, kev, epss, exposure, why)
     VALUES (@id, @org_id, @scan_id, @sub_scan_id, @site_id, @host_id, @mac, @ip, @cve_id, @score, @port, @protocol, @service, @cpe, @product, @version, @confidence, @evidence, @created_at,
       @distro, @distro_status, @kev, @epss, @exposure, @why)`,
  );
  const watch = findingWatch(db);
  const finish = db.prepare(
    'UPDATE sub_scans SET status = ?, error = ?, findings_expected = ?, hosts_done = MAX(hosts_done, ?), progress = 100, finished_at = ?, coverage = ?, paused_until = NULL WHERE id = ?',
  );
  const received = db.prepare<[string], number>('SELECT findings_received FROM sub_scans WHERE id = ?').pluck();
  const markRun = scheduleRunMarker(db);
  const inventory = db.prepare('INSERT INTO inventories (site_id, run_id, sub_scan_id, at, body) VALUES (?, ?, ?, ?, ?)');

  /** Finds the sub-scan a run's first report belongs to, creating the scan and sub-scan when the agent started it on its own. */
  function resolveRun(item: IngestItem, m: ScanStatusReport): SubRef {
    const { site } = item;
    const subnets = toJson(m.subnets);
    const targets = m.target_ips && toJson(m.target_ips);
    if (m.scan_id !== null && m.sub_scan_id !== null) {
      const sub = subById.get(m.sub_scan_id, m.scan_id);
      if (!sub || sub.site_id !== site.id || sub.org_id !== site.org_id)
        throw new IngestRejection(`no sub-scan ${m.sub_scan_id} of scan ${m.scan_id} for this site`);
      if (sub.run_id !== null && sub.run_id !== m.run_id) throw new IngestRejection(`sub-scan ${sub.id} already belongs to run ${sub.run_id}`);
      attachRun.run(m.run_id, subnets, targets, sub.id);
      return sub;
    }
    let scanId: string;
    // The label the agent shows for this run: both derive it from the same fields.
    const label = scanLabelOf(scanKeyOf({ schedule_id: m.schedule_id, slot_at: m.slot_at, cp_scan_id: m.scan_id, run_id: m.run_id }));
    if (m.schedule_id !== null && m.slot_at !== null) {
      const existing = scanBySlot.get(m.schedule_id, m.slot_at);
      if (existing && existing.org_id !== site.org_id) throw new IngestRejection(`schedule ${m.schedule_id} belongs to another organization`);
      if (existing) {
        scanId = existing.id;
      } else {
        const schedule = scheduleOf.get(m.schedule_id);
        if (schedule && schedule.org_id !== site.org_id) throw new IngestRejection(`schedule ${m.schedule_id} belongs to another organization`);
        scanId = randomUUID();
        insertScan.run(
          scanId,
          site.org_id,
          m.schedule_id,
          m.slot_at,
          'scheduled',
          label,
          schedule?.min_cvss ?? m.min_cvss,
          schedule?.warning_threshold ?? m.warning_threshold,
          schedule?.ignore_offline_sites ?? 0,
          schedule?.notification_group ?? null,
          item.received_at,
        );
        if (schedule) markRun(m.schedule_id, new Date(m.slot_at).toISOString());
      }
    } else {
      scanId = randomUUID();
      insertScan.run(scanId, site.org_id, m.schedule_id, null, 'local', label, m.min_cvss, m.warning_threshold, 0, null, item.received_at);
      if (m.origin !== undefined) setOrigin.run(m.origin, m.trigger ?? null, scanId);
    }
    const sub = subOfScanSite.get(scanId, site.id);
    if (sub) {
      if (sub.run_id !== null && sub.run_id !== m.run_id) throw new IngestRejection(`site already reported run ${sub.run_id} for this scan`);
      attachRun.run(m.run_id, subnets, targets, sub.id);
      return sub;
    }
    const id = randomUUID();
    insertSub.run(id, scanId, site.id, m.run_id, subnets, targets, item.received_at);
    return { id, scan_id: scanId, site_id: site.id, status: 'queued' };
  }

  function subOf(item: IngestItem, runId: string): SubRef {
    const sub = subByRun.get(runId);
    if (!sub) throw new IngestRejection(`unknown run ${runId}: its scan.status must come first`);
    if (sub.site_id !== item.site.id) throw new IngestRejection(`run ${runId} belongs to another site`);
    return sub;
  }

  function hostOf(sub: SubRef, m: HostReport | Finding, at: string): string {
    const existing = hostId.get(sub.id, m.ip);
    if (existing !== undefined) return existing;
    const id = uuidv7();
    upsertHost.run({
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
    return id;
  }

  interface PassContext {
    /** CVE ids whose public record, and `<org> <cve>` keys whose organization's facts, this batch wrote. */
    cvesSeen: Set<string>;
    tallies: Tallies;
    /** A finding of this pass entered KEV or became exposed (finding-watch.ts): the notifier has work. */
    alerts?: boolean;
  }

  /** Applies one report; returns the scan it belongs to, and whether that scan's status may have changed. */
  function apply(item: IngestItem, ctx: PassContext): { scan: string | undefined; recompute: boolean } {
    const m: Report = item.report;
    const at = item.received_at;
    switch (m.type) {
      case 'scan.status': {
        const sub = subByRun.get(m.run_id) ?? resolveRun(item, m);
        if (sub.site_id !== item.site.id) throw new IngestRejection(`run ${m.run_id} belongs to another site`);
        if (finalStatuses.includes(sub.status)) return { scan: sub.scan_id, recompute: true };
        if (m.status === 'paused') pauseSub.run(m.resumes_at ?? m.at, sub.id);
        else setSubStatus.run(m.status, m.status === 'scanning' ? m.at : null, sub.id);
        return { scan: sub.scan_id, recompute: true };
      }
      case 'scan.progress': {
        const sub = subOf(item, m.run_id);
        progress.run(m.percent, m.hosts_done, m.hosts_total, sub.id);
        return { scan: sub.scan_id, recompute: false };
      }
      case 'scan.event': {
        const sub = subOf(item, m.run_id);
        event.run(sub.scan_id, sub.site_id, m.at, m.level, m.message);
        return { scan: sub.scan_id, recompute: false };
      }
      case 'host': {
        const sub = subOf(item, m.run_id);
        upsertHost.run({
          id: uuidv7(),
          scan_id: sub.scan_id,
          sub_scan_id: sub.id,
          site_id: sub.site_id,
          ip: m.ip,
          mac: m.mac,
          hostname: m.hostname,
          manufacturer: m.manufacturer,
          os: m.os,
          sources: toJson(m.sources),
          open_ports: toJson(m.open_ports),
          port_count: m.open_ports.length,
          created_at: at,
        });
        for (const open of m.open_ports) scanPort.run(sub.scan_id, open.port);
        return { scan: sub.scan_id, recompute: false };
      }
      case 'finding': {
        const sub = subOf(item, m.run_id);
        const host = hostOf(sub, m, at);
        const { cve } = m;
        if (!ctx.cvesSeen.has(cve.id)) {
          ctx.cvesSeen.add(cve.id);
          const { fixed_versions: _f, advice: _a, references, ...record } = cve;
          upsertCve.run({ ...record, compliance_tags: toJson(cve.compliance_tags), refs: toJson(references), updated_at: at });
        }
        const factsKey = `${item.site.org_id} ${cve.id}`;
        if (!ctx.cvesSeen.has(factsKey)) {
          ctx.cvesSeen.add(factsKey);
          upsertOrgFacts.run({ org_id: item.site.org_id, cve_id: cve.id, fixed_versions: toJson(cve.fixed_versions), advice: cve.advice, updated_at: at });
        }
        // Time-ordered ids: the primary key index grows at its end instead of at a random page per finding.
        const id = uuidv7();
        const optional = (value: unknown) => (value === undefined ? null : toJson(value));
        insertFinding.run({
          id,
          org_id: item.site.org_id,
          scan_id: sub.scan_id,
          sub_scan_id: sub.id,
          site_id: sub.site_id,
          host_id: host,
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
        ctx.tallies.add({ host, mac: m.mac, sub: sub.id, scan: sub.scan_id, cve: cve.id, score: cve.score, counted: !patched });
        if (watch({ org_id: item.site.org_id, site_id: sub.site_id, scan_id: sub.scan_id, id }, m, at).length > 0) ctx.alerts = true;
        return { scan: sub.scan_id, recompute: false };
      }
      case 'scan.finished': {
        const sub = subOf(item, m.run_id);
        finish.run(m.status, m.error, m.findings_sent, m.hosts_scanned, m.at, m.coverage === undefined ? null : toJson(m.coverage), sub.id);
        const held = (received.get(sub.id) ?? 0) + ctx.tallies.pendingFor(sub.id);
        if (held !== m.findings_sent)
          event.run(sub.scan_id, sub.site_id, at, 'warning', `the agent sent ${m.findings_sent} findings, the control plane holds ${held}`);
        return { scan: sub.scan_id, recompute: true };
      }
      case 'inventory': {
        // A run's inventory belongs to its sub-scan; an unknown or foreign run is quarantined like any other report.
        const sub = m.run_id === null ? undefined : subOf(item, m.run_id);
        inventory.run(item.site.id, m.run_id, sub?.id ?? null, m.at, toJson({ router: m.router, hosts: m.hosts, neighbors: m.neighbors }));
        return { scan: sub?.scan_id, recompute: false };
      }
    }
  }

  const writeTallies = Tallies.writer(db);
  // In a savepoint, a report's counters are written with it, so a rollback takes them too.
  const applyOne = db.transaction((item: IngestItem, ctx: PassContext) => {
    const applied = apply(item, ctx);
    ctx.tallies.flush();
    return applied;
  });

  /**
   * One pass over the batch. `isolated` wraps each report in a savepoint so a bad one is rolled
   * back alone and quarantined; without it a failure aborts the pass (and the caller retries the
   * batch isolated), which spares the common case two statements per report.
   */
  function pass(items: IngestItem[], isolated: boolean) {
    const marks = new Map<string, { site: string; stream: string; seq: number }>();
    const results: IngestResult[] = [];
    const touched = new Set<string>();
    const ctx: PassContext = { cvesSeen: new Set<string>(), tallies: new Tallies(writeTallies) };
    for (const item of items) {
      const key = `${item.site.id} ${item.stream_id}`;
      const mark = marks.get(key) ?? { site: item.site.id, stream: item.stream_id, seq: streamSeq.get(item.site.id, item.stream_id) ?? 0 };
      marks.set(key, mark);
      if (item.report.seq <= mark.seq) {
        results.push({ outcome: 'duplicate' });
        continue;
      }
      try {
        const { scan, recompute } = isolated ? applyOne(item, ctx) : apply(item, ctx);
        if (scan !== undefined && recompute) touched.add(scan);
        results.push(scan === undefined ? { outcome: 'applied' } : { outcome: 'applied', scan_id: scan });
      } catch (error) {
        const constraint = String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT');
        if (!isolated || (!(error instanceof IngestRejection) && !constraint)) throw error;
        // The savepoint rolled the report back, and a CVE upserted in it with it.
        if (item.report.type === 'finding') {
          ctx.cvesSeen.delete(item.report.cve.id);
          ctx.cvesSeen.delete(`${item.site.org_id} ${item.report.cve.id}`);
        }
        const reason = (error as Error).message;
        quarantine.run(item.site.id, item.stream_id, item.report.seq, toJson(item.report), reason, item.received_at);
        results.push({ outcome: 'rejected', reason });
      }
      mark.seq = item.report.seq;
    }
    ctx.tallies.flush();
    const now = items.at(-1)?.received_at ?? new Date().toISOString();
    for (const mark of marks.values()) saveStream.run(mark.site, mark.stream, mark.seq, now);
    // Once per scan and batch, however many of its sites started or ended in it.
    const finished = [...touched].filter((scanId) => state.recompute(scanId, now));
    return { results, finished_scans: finished, alerts: ctx.alerts === true };
  }

  const fast = db.transaction((items: IngestItem[]) => pass(items, false));
  const careful = db.transaction((items: IngestItem[]) => pass(items, true));
  // IMMEDIATE: the pass reads before it writes, and another connection (the REST side) may commit
  // in between; a deferred transaction would then fail at its first write instead of waiting.
  const batch = (items: IngestItem[]) => {
    try {
      return fast.immediate(items);
    } catch (error) {
      const constraint = String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT');
      if (!(error instanceof IngestRejection) && !constraint) throw error;
      return careful.immediate(items);
    }
  };

  return {
    async streamSeq(siteId, streamId) {
      return streamSeq.get(siteId, streamId) ?? 0;
    },
    async ingest(items) {
      return batch(items);
    },
  };
}

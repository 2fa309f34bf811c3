/**
 * The sub-scan a run's first report (scan.status) belongs to, creating the scan and sub-scan when
 * the agent started it on its own (sqlite/ingest.ts's resolveRun). Two nodes may start the same
 * slot's scan at once (two sites of one schedule, or the slot timer): the scan and sub-scan are
 * inserted with ON CONFLICT DO NOTHING on their unique keys, so the second waits for the first
 * and takes its row. Every rejection happens before anything is written.
 */
import { randomUUID } from 'node:crypto';
import type { ScanStatus as ScanStatusReport } from '../../../protocol/index.js';
import { scanKeyOf, scanLabelOf } from '../../../shared/scan-label.js';
import type { IngestItem, SubScanStatus } from '../types.js';
import { toJson } from '../json.js';
import type { Queryable } from './db.js';

/** A report that is well-formed but cannot be applied: it is quarantined, acknowledged and reported back. */
export class IngestRejection extends Error {}

export interface SubRef {
  id: string;
  scan_id: string;
  site_id: string;
  status: SubScanStatus;
}

/** Sets a schedule's last_run_at when one of its scans is initiated (never moving it back). */
export async function markScheduleRun(client: Queryable, scheduleId: string, at: string): Promise<void> {
  await client.query('UPDATE schedules SET last_run_at = $1 WHERE id = $2 AND (last_run_at IS NULL OR last_run_at < $1)', [at, scheduleId]);
}

const one = async <R extends object>(client: Queryable, sql: string, values: unknown[]): Promise<R | undefined> => (await client.query<R>(sql, values)).rows[0];

async function attachRun(client: Queryable, subId: string, m: ScanStatusReport): Promise<void> {
  await client.query('UPDATE sub_scans SET run_id = $1, subnets = $2, target_ips = COALESCE($3, target_ips) WHERE id = $4', [
    m.run_id,
    toJson(m.subnets),
    m.target_ips && toJson(m.target_ips),
    subId,
  ]);
}

export async function resolveRun(client: Queryable, item: IngestItem, m: ScanStatusReport): Promise<SubRef> {
  const { site } = item;
  if (m.scan_id !== null && m.sub_scan_id !== null) {
    const sub = await one<SubRef & { run_id: string | null; org_id: string }>(
      client,
      'SELECT s.id, s.scan_id, s.site_id, s.status, s.run_id, c.org_id FROM sub_scans s JOIN scans c ON c.id = s.scan_id WHERE s.id = $1 AND s.scan_id = $2 FOR NO KEY UPDATE OF s',
      [m.sub_scan_id, m.scan_id],
    );
    if (!sub || sub.site_id !== site.id || sub.org_id !== site.org_id)
      throw new IngestRejection(`no sub-scan ${m.sub_scan_id} of scan ${m.scan_id} for this site`);
    if (sub.run_id !== null && sub.run_id !== m.run_id) throw new IngestRejection(`sub-scan ${sub.id} already belongs to run ${sub.run_id}`);
    await attachRun(client, sub.id, m);
    return { id: sub.id, scan_id: sub.scan_id, site_id: sub.site_id, status: sub.status };
  }
  // The label the agent shows for this run: both derive it from the same fields.
  const label = scanLabelOf(scanKeyOf({ schedule_id: m.schedule_id, slot_at: m.slot_at, cp_scan_id: m.scan_id, run_id: m.run_id }));
  const insertScan = `INSERT INTO scans (id, org_id, schedule_id, slot_at, kind, label, min_cvss, warning_threshold, ignore_offline_sites, notification_group, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11) ON CONFLICT (schedule_id, slot_at) DO NOTHING`;
  let scanId: string | undefined;
  let created = false;
  if (m.schedule_id !== null && m.slot_at !== null) {
    const bySlot = 'SELECT id, org_id FROM scans WHERE schedule_id = $1 AND slot_at = $2';
    let existing = await one<{ id: string; org_id: string }>(client, bySlot, [m.schedule_id, m.slot_at]);
    if (existing && existing.org_id !== site.org_id) throw new IngestRejection(`schedule ${m.schedule_id} belongs to another organization`);
    if (!existing) {
      const schedule = await one<{ org_id: string; min_cvss: number; warning_threshold: number; ignore_offline_sites: boolean; notification_group: string }>(
        client,
        'SELECT org_id, min_cvss, warning_threshold, ignore_offline_sites, notification_group FROM schedules WHERE id = $1',
        [m.schedule_id],
      );
      if (schedule && schedule.org_id !== site.org_id) throw new IngestRejection(`schedule ${m.schedule_id} belongs to another organization`);
      const id = randomUUID();
      const inserted = await client.query(insertScan, [
        id,
        site.org_id,
        m.schedule_id,
        m.slot_at,
        'scheduled',
        label,
        schedule?.min_cvss ?? m.min_cvss,
        schedule?.warning_threshold ?? m.warning_threshold,
        schedule?.ignore_offline_sites ?? false,
        schedule?.notification_group ?? null,
        item.received_at,
      ]);
      if (inserted.rowCount === 1) {
        scanId = id;
        created = true;
        if (schedule) await markScheduleRun(client, m.schedule_id, new Date(m.slot_at).toISOString());
      } else {
        // Another node created the slot's scan meanwhile (it committed: the insert waited for it).
        existing = await one<{ id: string; org_id: string }>(client, bySlot, [m.schedule_id, m.slot_at]);
        if (!existing || existing.org_id !== site.org_id) throw new IngestRejection(`schedule ${m.schedule_id} belongs to another organization`);
      }
    }
    scanId ??= existing?.id;
  } else {
    scanId = randomUUID();
    created = true;
    await client.query(insertScan, [scanId, site.org_id, m.schedule_id, null, 'local', label, m.min_cvss, m.warning_threshold, false, null, item.received_at]);
    if (m.origin !== undefined) await client.query('UPDATE scans SET origin = $1, trigger = $2 WHERE id = $3', [m.origin, m.trigger ?? null, scanId]);
  }
  if (scanId === undefined) throw new Error('no scan for the run');
  const subOfScanSite = 'SELECT id, scan_id, site_id, status, run_id FROM sub_scans WHERE scan_id = $1 AND site_id = $2 FOR NO KEY UPDATE';
  if (!created) {
    const sub = await one<SubRef & { run_id: string | null }>(client, subOfScanSite, [scanId, site.id]);
    if (sub) {
      if (sub.run_id !== null && sub.run_id !== m.run_id) throw new IngestRejection(`site already reported run ${sub.run_id} for this scan`);
      await attachRun(client, sub.id, m);
      return { id: sub.id, scan_id: sub.scan_id, site_id: sub.site_id, status: sub.status };
    }
  }
  const id = randomUUID();
  const inserted = await client.query(
    `INSERT INTO sub_scans (id, scan_id, site_id, run_id, subnets, target_ips, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
     ON CONFLICT (scan_id, site_id) DO NOTHING`,
    [id, scanId, site.id, m.run_id, toJson(m.subnets), m.target_ips && toJson(m.target_ips), item.received_at],
  );
  if (inserted.rowCount === 1) return { id, scan_id: scanId, site_id: site.id, status: 'queued' };
  // The control plane created the site's sub-scan meanwhile (the slot timer on another node).
  const sub = await one<SubRef & { run_id: string | null }>(client, subOfScanSite, [scanId, site.id]);
  if (!sub) throw new Error(`sub-scan of scan ${scanId} for site ${site.id} vanished`);
  if (sub.run_id !== null && sub.run_id !== m.run_id) throw new IngestRejection(`site already reported run ${sub.run_id} for this scan`);
  await attachRun(client, sub.id, m);
  return { id: sub.id, scan_id: sub.scan_id, site_id: sub.site_id, status: sub.status };
}

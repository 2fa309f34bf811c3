/**
 * What the core-store tests share: the PostgreSQL modules as one store slice, the SQLite store's
 * same slice, sequenced ingest items from the simulator's report builders, and a snapshot of
 * everything the scan store answers about a scan (ids the engines draw themselves blanked).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Report } from '../../../src/protocol/index.js';
import { pgIngest } from '../../../src/control-plane/store/postgres/ingest.js';
import { pgScans } from '../../../src/control-plane/store/postgres/scans.js';
import { pgSchedules } from '../../../src/control-plane/store/postgres/schedules.js';
import { pgSites } from '../../../src/control-plane/store/postgres/sites.js';
import type { PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore, IngestItem, StoredSchedule } from '../../../src/control-plane/store/types.js';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { tempDir } from '../../helpers/temp.js';

export type Core = Pick<ControlPlaneStore, 'sites' | 'schedules' | 'scans' | 'ingest'>;

export const logger = pino({ level: 'silent' });

export const pgCore = (db: PgDb): Core => ({ sites: pgSites(db), schedules: pgSchedules(db), scans: pgScans(db), ingest: pgIngest(db) });

/** The SQLite store, reports applied on the caller's thread; closed by the caller. */
export const sqliteCore = () => openSqliteStore({ stateDir: tempDir(), logger, ingestThread: false });

export const ORG = 'org-a';
export const at = (second: number): string => new Date(Date.UTC(2026, 2, 1, 10, 0, second)).toISOString();

export const site = (id: string, org = ORG) => ({
  id,
  org_id: org,
  name: `site ${id}`,
  created_at: at(0),
  token_rotated_at: at(0),
  last_seen_at: null,
  agent_version: null,
  token_hash: `hash-${id}`,
});

export const schedule = (id: string, siteIds: string[], slot: string): StoredSchedule => ({
  id,
  org_id: ORG,
  description: `schedule ${id}`,
  day_of_week: 0,
  time_of_day: '10:00',
  every_n_weeks: 2,
  timezone: 'UTC',
  min_cvss: 4,
  warning_threshold: 7,
  ignore_offline_sites: false,
  notification_group: 'security',
  sites: siteIds.map((siteId) => ({ id: siteId, subnet: '192.168.88.0/24' })),
  anchor_at: slot,
  next_scan_at: slot,
  last_run_at: null,
  created_at: at(0),
  updated_at: at(0),
});

/** Items of one agent stream: seqs from `from`, every report timed at `second` (the builders use the clock). */
export function stream(siteId: string, streamId: string, reports: ReportInput[], second: number, from = 1): IngestItem[] {
  return reports.map((report, i) => ({
    site: { id: siteId, org_id: ORG },
    stream_id: streamId,
    report: { ...report, at: at(second), seq: from + i } as Report,
    received_at: at(second),
  }));
}

export const progress = (runId: string, percent: number): ReportInput => ({
  type: 'scan.progress',
  at: at(0),
  run_id: runId,
  percent,
  hosts_done: 1,
  hosts_total: 4,
});
export const event = (runId: string, message: string): ReportInput => ({ type: 'scan.event', at: at(0), run_id: runId, level: 'info', message });

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** The value with every UUID blanked: scan, sub-scan, host and finding ids each engine draws itself. */
export const blank = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null).replace(UUID, '<id>'));

/** Everything the scan store answers about a scan. Findings of equal score have no defined order: sorted. */
export async function snapshot(store: Core, scanId: string): Promise<unknown> {
  const { scans } = store;
  const findings = (blank(await scans.findings(scanId)) as unknown[]).map((f) => JSON.stringify(f));
  const scores = (await scans.findings(scanId)).map((f) => f.cve.score);
  return blank({
    scan: await scans.get(ORG, scanId),
    subs: await scans.subScans(scanId),
    totals: await scans.siteTotals(scanId),
    aggregates: await scans.aggregates(scanId),
    hosts: await scans.hosts(scanId),
    findings: findings.sort(),
    scoresInOrder: scores,
    events: await scans.events(scanId),
    lastEvent: await scans.events(scanId, 1),
    inventories: await scans.routerInventories(scanId),
  });
}

export const newId = (): string => randomUUID();

/**
 * Findings per second of the store's ingest alone, PostgreSQL beside SQLite: one scan over 20
 * sites, 10,000 findings (20 sites x 20 hosts x 25 findings over 200 CVEs), applied in batches
 * of up to 1,000 reports mixed across sites as the hub's group commit makes them. PostgreSQL runs
 * on a throwaway cluster (initdb + pg_ctl in a temp dir) on 127.0.90.1; also through two nodes
 * (two pools) at once, each taking half of the sites. No assertion: figures for the record.
 *
 *   node --import tsx scripts/bench-pg-ingest.ts [findings]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Report } from '../src/protocol/index.js';
import { controlPlaneMigrations } from '../src/control-plane/store/migrations/index.js';
import { openPgDb } from '../src/control-plane/store/postgres/db.js';
import { pgIngest } from '../src/control-plane/store/postgres/ingest.js';
import { migratePostgres } from '../src/control-plane/store/postgres/migrate.js';
import { pgScans } from '../src/control-plane/store/postgres/scans.js';
import { pgSites } from '../src/control-plane/store/postgres/sites.js';
import { openSqliteStore } from '../src/control-plane/store/sqlite/index.js';
import type { IngestItem, IngestStore, NewScan, ScanStore, SiteStore } from '../src/control-plane/store/types.js';
import { createDatabase, startPostgres } from '../test/helpers/postgres.js';
import { finding, finished, host, macOf, scanStatus } from '../test/simulators/control-plane/reports.js';
import type { ReportInput } from '../test/simulators/control-plane/simulated-agent.js';

const logger = pino({ level: 'silent' });
const total = Number(process.argv[2] ?? 10_000);
const SITES = 20;
const HOSTS = 20;
const perHost = Math.ceil(total / SITES / HOSTS);
const BATCH = 1000;

interface Engine {
  sites: SiteStore;
  scans: ScanStore;
  ingest: IngestStore;
}

/** Each site's stream: status, hosts and findings, end; then mixed into batches of BATCH reports, sites interleaved. */
function workload(scanId: string, subs: string[], sites: number[]): IngestItem[][] {
  const now = new Date().toISOString();
  const streams = sites.map((s) => {
    const subId = subs[s] as string;
    const runId = randomUUID();
    const reports: ReportInput[] = [scanStatus({ runId, scanId, subScanId: subId })];
    for (let h = 0; h < HOSTS; h++) {
      const ip = `10.${s}.0.${h + 1}`;
      reports.push(host(runId, ip, macOf(s * 1000 + h)));
      for (let f = 0; f < perHost; f++) reports.push(finding(runId, ip, macOf(s * 1000 + h), `CVE-2024-${10000 + ((s * 31 + h * 7 + f) % 200)}`, 4 + (f % 6)));
    }
    reports.push(finished(runId, HOSTS * perHost, 'completed', HOSTS));
    return reports.map((report, i): IngestItem => ({
      site: { id: `site-${s}`, org_id: 'org' },
      stream_id: 'bench',
      report: { ...report, seq: i + 1 } as Report,
      received_at: now,
    }));
  });
  const mixed: IngestItem[] = [];
  for (let i = 0; streams.some((stream) => i < stream.length); i++) for (const stream of streams) if (i < stream.length) mixed.push(stream[i] as IngestItem);
  const batches: IngestItem[][] = [];
  for (let i = 0; i < mixed.length; i += BATCH) batches.push(mixed.slice(i, i + BATCH));
  return batches;
}

async function setUp(engine: Engine): Promise<{ scanId: string; subs: string[] }> {
  const subs = Array.from({ length: SITES }, () => randomUUID());
  const at = new Date().toISOString();
  for (let s = 0; s < SITES; s++)
    await engine.sites.create({
      id: `site-${s}`,
      org_id: 'org',
      name: `site ${s}`,
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: `hash-${s}`,
    });
  const input: NewScan = {
    scan: {
      id: randomUUID(),
      org_id: 'org',
      schedule_id: null,
      slot_at: null,
      kind: 'invoke',
      label: 'bench',
      min_cvss: 4,
      warning_threshold: 7,
      ignore_offline_sites: false,
      notification_group: null,
      created_at: at,
    },
    subScans: subs.map((id, s) => ({ id, site_id: `site-${s}`, subnets: [`10.${s}.0.0/24`], target_ips: null, status: 'pending', error: null })),
    events: [],
  };
  await engine.scans.create(input, at);
  return { scanId: input.scan.id, subs };
}

/** Applies the reports through the given ingest stores (nodes) at once, each taking its share of the sites (an agent's stream goes through one node). */
async function run(label: string, engine: Engine, ingests: IngestStore[]): Promise<void> {
  const { scanId, subs } = await setUp(engine);
  const shares = ingests.map((_, n) =>
    workload(
      scanId,
      subs,
      [...subs.keys()].filter((s) => s % ingests.length === n),
    ),
  );
  const batchCount = shares.reduce((sum, share) => sum + share.length, 0);
  const started = process.hrtime.bigint();
  await Promise.all(
    ingests.map(async (ingest, n) => {
      for (const batch of shares[n] as IngestItem[][]) await ingest.ingest(batch);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const scan = await engine.scans.get('org', scanId);
  const stored = scan?.cve_count ?? 0;
  console.log(
    `${label.padEnd(34)} ${String(stored).padStart(6)} findings  ${batchCount} batches  ${seconds.toFixed(2)} s  ${Math.round(stored / seconds)} findings/s  (${scan?.status})`,
  );
}

const dir = mkdtempSync(path.join(tmpdir(), 'bench-pg-ingest-'));
const cluster = await startPostgres({ host: '127.0.90.1' });
try {
  const sqlite = openSqliteStore({ stateDir: dir, logger, ingestThread: false });
  await run('SQLite (one process)', sqlite, [sqlite.ingest]);
  await sqlite.close();
  for (const nodes of [1, 2]) {
    const url = await createDatabase(cluster.url);
    const dbs = Array.from({ length: nodes }, () => openPgDb({ url, logger, max: 4 }));
    await migratePostgres(dbs[0]!, controlPlaneMigrations, logger);
    const first = dbs[0]!;
    await run(
      `PostgreSQL (${nodes} node${nodes === 1 ? '' : 's'})`,
      { sites: pgSites(first), scans: pgScans(first), ingest: pgIngest(first) },
      dbs.map((db) => pgIngest(db)),
    );
    for (const db of dbs) await db.close();
  }
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}

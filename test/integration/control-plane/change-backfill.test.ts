/**
 * Migration 013 on an installation that already holds runs: the state starts from them, so the
 * first run after the upgrade tells only what changed since, not every device and finding the
 * control plane already knew. Runs on both store engines.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../src/control-plane/store/sqlite/index.js';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { databaseUrlOf, engine, openEngineStore, queryDatabase } from '../../helpers/store-engine.js';
import { tempDir } from '../../helpers/temp.js';
import { site, stream } from '../postgres/core-kit.js';

const logger = pino({ level: 'silent' });
const ip = '192.168.88.2';
const mac = '4C:5E:0C:16:00:22';
const KEPT = 'CVE-2018-14847';
const FIXED = 'CVE-2019-3976';

const inventory = (runId: string, version: string): ReportInput => ({
  type: 'inventory',
  at: new Date().toISOString(),
  run_id: runId,
  router: { identity: 'gw', routeros_version: version, board: null, serial: null },
  hosts: [],
  neighbors: [],
});

/** One local run of the site: the device with these CVEs and the router at this version. */
function run(cves: string[], version: string): ReportInput[] {
  const runId = newRunId();
  return [
    scanStatus({ runId }),
    host(runId, ip, mac),
    ...cves.map((cve) => finding(runId, ip, mac, cve, 9.1)),
    inventory(runId, version),
    finished(runId, cves.length),
  ];
}

/** The database as the control plane before migration 013 left it: the same rows, without the change tables. */
async function rewindTo12(dir: string): Promise<void> {
  const undo = `DROP TABLE site_devices; DROP TABLE finding_states; DROP TABLE site_routers; DROP TABLE change_alerts;`;
  if (engine === 'sqlite') {
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(undo);
    db.pragma('user_version = 12');
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: await databaseUrlOf(dir) });
  await client.connect();
  await client.query(`${undo} DELETE FROM schema_migrations WHERE version >= 13;`);
  await client.end();
}

describe('migration 013 on an installation with runs', () => {
  it('starts from what the runs reported: the next run tells only what changed', async () => {
    const dir = tempDir('cp-backfill-');
    let store = await openEngineStore(dir, logger, { ingestThread: false });
    await store.sites.create(site('s-a'));
    const before = run([KEPT, FIXED], '6.49.8');
    await store.ingest.ingest(stream('s-a', 'st', before, 1));
    await store.close();
    await rewindTo12(dir);

    store = await openEngineStore(dir, logger, { ingestThread: false });
    await store.ingest.ingest(stream('s-a', 'st', run([KEPT], '6.49.8'), 2, before.length + 1));
    await store.close();
    expect(await queryDatabase(dir, 'SELECT event, data FROM change_alerts')).toEqual([
      { event: 'finding.closed', data: JSON.stringify({ device: { mac, ip, hostname: 'host-2' }, cve: { id: FIXED, score: 9.1, severity: 'CRITICAL' } }) },
    ]);
    expect(await queryDatabase(dir, 'SELECT routeros_version, previous_version FROM site_routers')).toEqual([
      { routeros_version: '6.49.8', previous_version: null },
    ]);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCveDatabase, type CveDatabase } from '../../../src/agent/cve/cve-database.js';
import { importBatch } from '../../../src/cve/import.js';
import { createCveMatcher, type Finding } from '../../../src/cve/matcher.js';
import { vacuumPendingKey } from '../../../src/cve/migrations.js';
import { lookupsOf, type Lookup } from '../../fixtures/cve-v2/lookups.js';
import { captureLogger } from '../../helpers/logger.js';

/**
 * Migration 3 (the compact store) converts a version 2 cve.db in place. The fixture is a cve.db
 * written by the version 2 code from the real NVD records in ../shared/data/nvd, with the
 * findings the version 2 matcher gave (test/fixtures/cve-v2/make.ts says how it was made).
 */
const fixtures = fileURLToPath(new URL('../../fixtures/cve-v2/', import.meta.url));
const nvdDir = fileURLToPath(new URL('../../../../shared/data/nvd/', import.meta.url));
const golden = JSON.parse(gunzipSync(readFileSync(path.join(fixtures, 'findings-v2.json.gz'))).toString('utf8')) as (Lookup & { findings: Finding[] })[];
const records = readdirSync(nvdDir)
  .filter((name) => /^CVE-\d+-\d+\.json$/.test(name))
  .sort()
  .map((name) => JSON.parse(readFileSync(path.join(nvdDir, name), 'utf8')) as unknown);

let stateDir: string;
let before: { version: number; cves: number; details: number; ids: string[]; bytes: number };
let migrated: CveDatabase;
const log = captureLogger();

beforeAll(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'edge-cve-migrate-'));
  const file = path.join(stateDir, 'cve.db');
  writeFileSync(file, gunzipSync(readFileSync(path.join(fixtures, 'cve-v2.db.gz'))));
  const v2 = new Database(file, { readonly: true });
  before = {
    version: v2.pragma('user_version', { simple: true }) as number,
    cves: (v2.prepare('SELECT count(*) AS n FROM cves').get() as { n: number }).n,
    details: (v2.prepare('SELECT count(*) AS n FROM cve_details').get() as { n: number }).n,
    ids: v2.prepare('SELECT id FROM cves ORDER BY id').pluck().all() as string[],
    bytes: statSync(file).size,
  };
  v2.close();
  migrated = openCveDatabase({ stateDir, logger: log.logger });
});

afterAll(() => {
  migrated.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const plain = (findings: readonly Finding[]): unknown => JSON.parse(JSON.stringify(findings));

describe('migration 3: the compact store', () => {
  it('starts from a version 2 database holding the real records with their raw JSON', () => {
    expect(before).toMatchObject({ version: 2, cves: records.length, details: records.length });
  });

  it('keeps every CVE and drops the raw NVD JSON', () => {
    expect(migrated.db.pragma('user_version', { simple: true })).toBe(3);
    expect(migrated.db.prepare('SELECT id FROM cves ORDER BY id').pluck().all()).toEqual(before.ids);
    const tables = migrated.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).not.toContain('cve_details');
    expect(tables).not.toContain('cpe_index');
    expect(tables.filter((name) => String(name).endsWith('_v2'))).toEqual([]);
    for (const id of before.ids) expect(migrated.store.get(id)?.id).toBe(id);
  });

  it('gives the freed space back once (VACUUM after the migration)', () => {
    expect(migrated.store.getMeta(vacuumPendingKey)).toBeUndefined();
    expect(log.lines().some((line) => line.msg === 'compacted cve.db after the compact-store migration')).toBe(true);
    expect(statSync(migrated.file).size).toBeLessThan(before.bytes / 2);
  });

  it('finds exactly what version 2 found, for every lookup that reaches the records', () => {
    expect(golden.map(({ cpe, platforms }) => ({ cpe, platforms }))).toEqual(lookupsOf(records));
    expect(golden.reduce((sum, lookup) => sum + lookup.findings.length, 0)).toBeGreaterThan(1000);
    const matcher = createCveMatcher(migrated.store);
    for (const lookup of golden) {
      expect(plain(matcher.matchCpe(lookup.cpe, { platforms: lookup.platforms })), `${lookup.cpe} ${lookup.platforms.join(' ')}`).toEqual(lookup.findings);
    }
  });

  it('holds what a fresh import of the same records holds', () => {
    const freshDir = mkdtempSync(path.join(tmpdir(), 'edge-cve-fresh-'));
    const fresh = openCveDatabase({ stateDir: freshDir, logger: log.logger });
    try {
      importBatch(fresh.store, records, { source: 'test', logger: log.logger });
      for (const id of before.ids) expect(migrated.store.get(id), id).toEqual(fresh.store.get(id));
      const rows = (db: CveDatabase) =>
        db.db
          .prepare(
            'SELECT p.vendor, p.product, p.part, m.id >> 16 AS cve, m.entries FROM cpe_match m JOIN cpe_products p ON p.key = m.product_key ORDER BY 1, 2, 3, 4',
          )
          .all();
      expect(rows(migrated)).toEqual(rows(fresh));
    } finally {
      fresh.close();
      rmSync(freshDir, { recursive: true, force: true });
    }
  });

  it('refuses a damaged version 2 file as corrupt and leaves it whole at version 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-damaged-'));
    const file = path.join(dir, 'cve.db');
    try {
      writeFileSync(file, gunzipSync(readFileSync(path.join(fixtures, 'cve-v2.db.gz'))));
      const v2 = new Database(file);
      v2.prepare("UPDATE cve_details SET configurations = '[{' WHERE key = (SELECT key FROM cves WHERE id = 'CVE-2024-6387')").run();
      v2.close();
      expect(() => openCveDatabase({ stateDir: dir, logger: log.logger })).toThrow(
        expect.objectContaining({ code: 'AGENT_ERR_DB_CORRUPT', message: expect.stringContaining('CVE-2024-6387') }),
      );
      const after = new Database(file, { readonly: true });
      expect(after.pragma('user_version', { simple: true })).toBe(2);
      expect(after.prepare('SELECT count(*) AS n FROM cves').get()).toEqual({ n: before.cves });
      expect(after.prepare('SELECT count(*) AS n FROM cve_details').get()).toEqual({ n: before.details });
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureLogger, type CapturedLogger } from '../../helpers/logger.js';
import { openCveDatabase, type CveDatabase } from '../../../src/agent/cve/cve-database.js';
import { importBatch } from '../../../src/cve/import.js';
import { createCveMatcher, type CveMatcher } from '../../../src/cve/matcher.js';

/** The 78 real NVD records, verbatim (see test/fixtures/nvd/records/README.md). */
export const recordsDir = fileURLToPath(new URL('../../fixtures/nvd/records', import.meta.url));

export const recordFiles = readdirSync(recordsDir)
  .filter((name) => /^CVE-\d+-\d+\.json$/.test(name))
  .sort();

/** A fresh parsed copy of a real record, to read or to derive a variant from. */
export function realRecord(id: string): Record<string, unknown> & { id: string; lastModified: string; vulnStatus: string } {
  return JSON.parse(readFileSync(path.join(recordsDir, `${id}.json`), 'utf8')) as Record<string, unknown> & {
    id: string;
    lastModified: string;
    vulnStatus: string;
  };
}

export function allRealRecords(): Record<string, unknown>[] {
  return recordFiles.map((name) => realRecord(name.replace(/\.json$/, '')));
}

export interface TestKnowledgeBase extends CveDatabase {
  matcher: CveMatcher;
  log: CapturedLogger;
  stateDir: string;
  /** Closes the database and removes its directory. */
  dispose(): void;
}

/**
 * A real cve.db in its own temporary state directory, optionally loaded with records. It
 * outlives single tests (for beforeAll); dispose() it in afterAll.
 */
export function knowledgeBase(records: readonly unknown[] = []): TestKnowledgeBase {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'edge-cve-kb-'));
  const log = captureLogger();
  const database = openCveDatabase({ stateDir, logger: log.logger });
  if (records.length > 0) importBatch(database.store, records, { source: 'test', logger: log.logger });
  return {
    ...database,
    matcher: createCveMatcher(database.store),
    log,
    stateDir,
    dispose() {
      database.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The CVE ids a lookup finds, sorted. */
export function ids(findings: readonly { cve_id: string }[]): string[] {
  return findings.map((finding) => finding.cve_id).sort();
}

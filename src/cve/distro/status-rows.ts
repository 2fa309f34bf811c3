import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { isDebianVersion } from './debian-version.js';

/**
 * Rows of cve.db's distro_status table (migration 2): a tracker's verdict for one CVE in one
 * source package of one release. Meaning of a row, for every source that fills the table:
 * - 'fixed' + fixed_version: the release's package is fixed from fixed_version on; an installed
 *   version below it is vulnerable. Debian's "no [release] line, unstable fixed in V" rows are
 *   stored as 'fixed' V too: the tracker's rule is "fixed iff the release's version >= V",
 *   which is exactly the comparison the verdict makes. fixed_version '0' = never vulnerable.
 * - 'vulnerable': no fix in that release (Debian unfixed/no-dsa, Ubuntu needed/active/pending).
 * - 'not-affected': the release's package never had the flaw.
 * - 'unknown': the tracker does not decide (Ubuntu needs-triage/ignored/deferred, Debian removed).
 * Ubuntu's DNE (no such package in the release) is no row at all.
 */
export const distroStatusRowSchema = z.strictObject({
  distro: z.enum(['debian', 'ubuntu']),
  release: z.string().regex(/^[a-z][a-z0-9-]*$/),
  package: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/),
  cve_id: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  status: z.enum(['fixed', 'vulnerable', 'not-affected', 'unknown']),
  fixed_version: z
    .string()
    .refine((version) => isDebianVersion(version), 'not a Debian version')
    .nullable(),
  ref: z.string().min(1).nullable(),
  note: z.string().nullable(),
});
export type DistroStatusRow = z.infer<typeof distroStatusRowSchema>;

/** Validates rows from outside (a file, a tracker source): CVE_ERR_DISTRO_STATUS_INVALID names the first bad one. */
export function parseDistroStatusRows(rows: unknown): DistroStatusRow[] {
  if (!Array.isArray(rows)) throw new CveError('CVE_ERR_DISTRO_STATUS_INVALID', 'distribution tracker data is not a list of rows');
  return rows.map((row: unknown, index) => {
    const parsed = distroStatusRowSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CveError(
        'CVE_ERR_DISTRO_STATUS_INVALID',
        `distribution tracker row ${index + 1} is malformed: ${issue?.path.join('.') || 'row'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  });
}

/** Writes rows (replacing the same distro/release/package/CVE) in one transaction: all or nothing. */
export function loadDistroStatus(db: Db, rows: unknown): number {
  const valid = parseDistroStatusRows(rows);
  const upsert = db.prepare<[DistroStatusRow]>(
    `INSERT INTO distro_status (distro, release, package, cve_id, status, fixed_version, ref, note)
     VALUES (@distro, @release, @package, @cve_id, @status, @fixed_version, @ref, @note)
     ON CONFLICT (distro, release, package, cve_id) DO UPDATE SET
       status = excluded.status, fixed_version = excluded.fixed_version, ref = excluded.ref, note = excluded.note`,
  );
  db.transaction(() => {
    for (const row of valid) upsert.run(row);
  })();
  return valid.length;
}

/**
 * Replaces every row of one distribution with `rows` (already valid) in one transaction: a
 * tracker source's run, where a CVE the tracker no longer lists must not keep its old verdict.
 */
export function replaceDistroStatus(db: Db, distro: DistroStatusRow['distro'], rows: readonly DistroStatusRow[]): { removed: number; written: number } {
  const insert = db.prepare<[DistroStatusRow]>(
    `INSERT OR REPLACE INTO distro_status (distro, release, package, cve_id, status, fixed_version, ref, note)
     VALUES (@distro, @release, @package, @cve_id, @status, @fixed_version, @ref, @note)`,
  );
  return db.transaction(() => {
    const removed = db.prepare('DELETE FROM distro_status WHERE distro = ?').run(distro).changes;
    for (const row of rows) {
      if (row.distro !== distro) throw new CveError('CVE_ERR_DISTRO_STATUS_INVALID', `a ${row.distro} row in a ${distro} update`);
      insert.run(row);
    }
    return { removed, written: rows.length };
  })();
}

export type DistroStatusLookup = (distro: string, sourcePackage: string, cveId: string) => DistroStatusRow[];

/** Reads the rows of one CVE in one source package, every release. */
export function createDistroStatusLookup(db: Db): DistroStatusLookup {
  const select = db.prepare<[string, string, string], DistroStatusRow>(
    'SELECT distro, release, package, cve_id, status, fixed_version, ref, note FROM distro_status WHERE cve_id = ? AND distro = ? AND package = ?',
  );
  return (distro, sourcePackage, cveId) => select.all(cveId, distro, sourcePackage);
}

/** The starter tracker rows shipped with the agent (scripts/build-starter-distro-status.ts). */
export const starterDistroStatusFile = fileURLToPath(new URL('../../../data/feed/starter-distro-status.json', import.meta.url));

/** Loads the starter tracker rows into a database whose distro_status is empty; returns the count, or undefined. */
export function ensureStarterDistroStatus(db: Db, file = starterDistroStatusFile): number | undefined {
  const any = db.prepare<[], { found: number }>('SELECT 1 AS found FROM distro_status LIMIT 1').get();
  if (any !== undefined || !existsSync(file)) return undefined;
  let rows: unknown;
  try {
    rows = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CveError('CVE_ERR_DISTRO_STATUS_INVALID', `${file} is not JSON`, { cause: error });
  }
  return loadDistroStatus(db, (rows as { rows?: unknown }).rows);
}

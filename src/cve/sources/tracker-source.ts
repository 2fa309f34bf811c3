import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { parseDistroStatusRows, replaceDistroStatus, type DistroStatusRow } from '../distro/status-rows.js';
import { TrackerDataError } from '../distro/tracker-rows.js';
import type { SourceContext } from './source.js';

/**
 * What the Debian and Ubuntu sources share once their bodies are fetched: rows are built and
 * checked whole before the database is touched, then the distribution's rows are replaced in
 * one transaction. Any fault before that leaves the previous rows in use.
 */
export async function applyTrackerRows(
  db: Db,
  context: SourceContext,
  distro: DistroStatusRow['distro'],
  where: string,
  build: () => DistroStatusRow[] | Promise<DistroStatusRow[]>,
): Promise<{ changed: number }> {
  let rows: DistroStatusRow[];
  try {
    rows = parseDistroStatusRows(await build());
  } catch (error) {
    if (error instanceof TrackerDataError || (error instanceof CveError && error.code === 'CVE_ERR_DISTRO_STATUS_INVALID')) {
      throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (rows.length === 0) throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${where}: the tracker data gives no ${distro} row`);
  const changed = countChanges(db, distro, rows);
  replaceDistroStatus(db, distro, rows);
  context.logger.info({ source: distro, rows: rows.length, changed }, `${distro} tracker rows applied`);
  return { changed };
}

/** Rows added, changed or gone compared with what the table holds: 0 when the tracker said nothing new. */
function countChanges(db: Db, distro: DistroStatusRow['distro'], rows: readonly DistroStatusRow[]): number {
  const key = (r: Pick<DistroStatusRow, 'release' | 'package' | 'cve_id'>) => `${r.release} ${r.package} ${r.cve_id}`;
  const held = new Map<string, string>();
  for (const r of db
    .prepare<[string], DistroStatusRow>('SELECT distro, release, package, cve_id, status, fixed_version, ref, note FROM distro_status WHERE distro = ?')
    .iterate(distro))
    held.set(key(r), `${r.status} ${r.fixed_version} ${r.ref} ${r.note}`);
  let changed = 0;
  for (const r of rows) {
    const k = key(r);
    if (held.get(k) !== `${r.status} ${r.fixed_version} ${r.ref} ${r.note}`) changed++;
    held.delete(k);
  }
  return changed + held.size;
}

import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { parseDistroStatusRows, replaceDistroStatus, type DistroStatusRow } from '../distro/status-rows.js';
import { TrackerDataError } from '../distro/tracker-rows.js';
import { TarError } from '../distro/ustar.js';
import type { SourceContext } from './source.js';

/**
 * What the Debian and Ubuntu sources share once their bodies are fetched: rows are built and
 * checked whole before the database is touched, then the distribution's rows are replaced in
 * one transaction. Any fault before that leaves the previous rows in use.
 */
export function applyTrackerRows(
  db: Db,
  context: SourceContext,
  distro: DistroStatusRow['distro'],
  where: string,
  build: () => DistroStatusRow[],
): { changed: number; rows: number } {
  let rows: DistroStatusRow[];
  try {
    rows = parseDistroStatusRows(build());
  } catch (error) {
    if (error instanceof TrackerDataError || error instanceof TarError || (error instanceof CveError && error.code === 'CVE_ERR_DISTRO_STATUS_INVALID')) {
      throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (rows.length === 0) throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${where}: the tracker data gives no ${distro} row`);
  const before = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM distro_status WHERE distro = ?').get(distro) as { n: number };
  const { written } = replaceDistroStatus(db, distro, rows);
  context.logger.info({ source: distro, rows: written, before: before.n }, `${distro} tracker rows applied`);
  return { changed: written, rows: written };
}

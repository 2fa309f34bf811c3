import { gunzipSync } from 'node:zlib';
import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { createFetchKit } from './http.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';

/** `{date}` is replaced by the day asked for (YYYY-MM-DD). */
export const defaultEpssUrl = 'https://epss.cyentia.com/epss_scores-{date}.csv.gz';

const header = /^#model_version:([^,]+),score_date:(\d{4}-\d{2}-\d{2})/;
const row = /^(CVE-\d{4}-\d{4,}),([0-9.eE-]+),([0-9.eE-]+)$/;

/**
 * Checks FIRST's daily EPSS CSV whole (`#model_version:…,score_date:…` line, `cve,epss,percentile`
 * header, rows), then upserts its rows with the score date in one transaction; rows of other CVEs
 * are kept. A malformed file throws `invalid` naming `where` and the line, with nothing written.
 */
export function applyEpssCsv(
  db: Db,
  text: string,
  where: string,
  invalid: 'CVE_ERR_SOURCE_PROTOCOL' | 'CVE_ERR_FEED_INVALID',
): { rows: number; scoreDate: string; model: string } {
  const lines = text.split('\n');
  const model = header.exec(lines[0] ?? '');
  if (!model || lines[1]?.trim() !== 'cve,epss,percentile') {
    throw new CveError(invalid, `${where}: the EPSS file lacks its #model_version line or cve,epss,percentile header`);
  }
  const scoreDate = model[2] as string;
  const rows: [string, number, number][] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const m = row.exec(line);
    const score = Number(m?.[2]);
    const percentile = Number(m?.[3]);
    if (!m || !(score >= 0 && score <= 1) || !(percentile >= 0 && percentile <= 1)) {
      throw new CveError(invalid, `${where}: malformed EPSS row ${i + 1}: ${line.slice(0, 80)}`);
    }
    rows.push([m[1] as string, score, percentile]);
  }
  const upsert = db.prepare('INSERT OR REPLACE INTO epss (cve_id, score, percentile, score_date) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [cve, score, percentile] of rows) upsert.run(cve, score, percentile, scoreDate);
  })();
  return { rows: rows.length, scoreDate, model: model[1] as string };
}

/** FIRST EPSS daily scores: the gzipped CSV fetched whole, then applyEpssCsv. */
export function createEpssSource(url: string = defaultEpssUrl): FeedSource {
  return {
    name: 'epss',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const target = url.replace('{date}', context.clock.now().toISOString().slice(0, 10));
      const body = await createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) }).fetchBody(target, context.signal);
      let text: string;
      try {
        text = gunzipSync(body).toString('utf8');
      } catch {
        throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${target}: the EPSS file is not gzip`);
      }
      const applied = applyEpssCsv(db, text, target, 'CVE_ERR_SOURCE_PROTOCOL');
      context.logger.info({ source: 'epss', rows: applied.rows, scoreDate: applied.scoreDate, model: applied.model }, 'EPSS scores applied');
      return { source: 'epss', changed: applied.rows, dataAsOf: applied.scoreDate };
    },
  };
}

import { z } from 'zod';
import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { createFetchKit } from './http.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';

export const defaultKevUrl = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** The fields of CISA's catalog (known_exploited_vulnerabilities_schema.json) the kev table keeps. */
export const kevCatalogSchema = z.object({
  catalogVersion: z.string(),
  dateReleased: z.string(),
  count: z.number().int().nonnegative(),
  vulnerabilities: z.array(
    z.object({
      cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
      vendorProject: z.string(),
      product: z.string(),
      vulnerabilityName: z.string(),
      dateAdded: day,
      dueDate: day.optional(),
      knownRansomwareCampaignUse: z.string().optional(),
    }),
  ),
});

/** What applying a catalog did. */
export interface KevApplied {
  rows: number;
  changed: number;
  dataAsOf: string;
  catalogVersion: string;
}

/**
 * Checks CISA's KEV catalog JSON whole, then brings the kev table to it in one transaction,
 * writing only the rows that differ: an unchanged catalog changes no row, so the feed hub makes
 * no new version and pushes nothing to the agents. A malformed catalog throws `invalid`
 * (`CVE_ERR_SOURCE_PROTOCOL` for a fetched body, `CVE_ERR_FEED_INVALID` for a file given by
 * hand), naming `where`, with nothing written.
 */
export function applyKevCatalog(db: Db, json: string, where: string, invalid: 'CVE_ERR_SOURCE_PROTOCOL' | 'CVE_ERR_FEED_INVALID'): KevApplied {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CveError(invalid, `${where}: the KEV catalog is not JSON`);
  }
  const checked = kevCatalogSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new CveError(invalid, `${where}: the KEV catalog is malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`);
  }
  const catalog = checked.data;
  type Row = [string, string, string | null, number, string, string, string];
  const rows: Row[] = catalog.vulnerabilities.map((v) => [
    v.cveID,
    v.dateAdded,
    v.dueDate ?? null,
    v.knownRansomwareCampaignUse === 'Known' ? 1 : 0,
    v.vendorProject,
    v.product,
    v.vulnerabilityName,
  ]);
  const insert = db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const remove = db.prepare('DELETE FROM kev WHERE cve_id = ?');
  const changed = db.transaction(() => {
    const held = new Map(
      (db.prepare('SELECT cve_id, date_added, due_date, ransomware, vendor, product, name FROM kev').raw().all() as Row[]).map((row) => [
        row[0],
        JSON.stringify(row),
      ]),
    );
    let count = 0;
    for (const row of rows) {
      if (held.get(row[0]) !== JSON.stringify(row)) {
        insert.run(...row);
        count++;
      }
      held.delete(row[0]);
    }
    for (const gone of held.keys()) {
      remove.run(gone);
      count++;
    }
    return count;
  })();
  return { rows: rows.length, changed, dataAsOf: catalog.dateReleased, catalogVersion: catalog.catalogVersion };
}

/** The CISA KEV catalog: fetched whole, then applyKevCatalog. */
export function createKevSource(url: string = defaultKevUrl): FeedSource {
  return {
    name: 'kev',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const body = await createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) }).fetchBody(url, context.signal);
      const applied = applyKevCatalog(db, body.toString('utf8'), url, 'CVE_ERR_SOURCE_PROTOCOL');
      context.logger.info({ source: 'kev', rows: applied.rows, changed: applied.changed, catalogVersion: applied.catalogVersion }, 'KEV catalog applied');
      return { source: 'kev', changed: applied.changed, dataAsOf: applied.dataAsOf };
    },
  };
}

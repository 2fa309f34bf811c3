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

/** The CISA KEV catalog: fetched whole, validated, and replaces the kev table in one transaction. */
export function createKevSource(url: string = defaultKevUrl): FeedSource {
  return {
    name: 'kev',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const body = await createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) }).fetchBody(url, context.signal);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${url}: the KEV catalog is not JSON`);
      }
      const checked = kevCatalogSchema.safeParse(parsed);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${url}: the KEV catalog is malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`);
      }
      const catalog = checked.data;
      const insert = db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
      db.transaction(() => {
        db.prepare('DELETE FROM kev').run();
        for (const v of catalog.vulnerabilities) {
          insert.run(
            v.cveID,
            v.dateAdded,
            v.dueDate ?? null,
            v.knownRansomwareCampaignUse === 'Known' ? 1 : 0,
            v.vendorProject,
            v.product,
            v.vulnerabilityName,
          );
        }
      })();
      context.logger.info({ source: 'kev', rows: catalog.vulnerabilities.length, catalogVersion: catalog.catalogVersion }, 'KEV catalog applied');
      return { source: 'kev', changed: catalog.vulnerabilities.length, dataAsOf: catalog.dateReleased };
    },
  };
}

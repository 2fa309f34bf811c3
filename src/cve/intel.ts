import { z } from 'zod';
import type { Db } from '../shared/sqlite.js';
import { CveError } from './errors.js';

/** A CVE in CISA's Known Exploited Vulnerabilities catalog, as a finding carries it. */
export interface KevEntry {
  date_added: string;
  due_date: string | null;
  ransomware: boolean;
}

/** FIRST's EPSS score for a CVE, as a finding carries it. */
export interface EpssScore {
  score: number;
  percentile: number;
  date: string;
}

interface KevRow {
  date_added: string;
  due_date: string | null;
  ransomware: number;
}

interface EpssRow {
  score: number;
  percentile: number;
  score_date: string;
}

/** The KEV entry of a CVE, or null when it is not known exploited (or the catalog was never loaded). */
export function kevFor(db: Db, cveId: string): KevEntry | null {
  const row = db.prepare('SELECT date_added, due_date, ransomware FROM kev WHERE cve_id = ?').get(cveId) as KevRow | undefined;
  return row === undefined ? null : { date_added: row.date_added, due_date: row.due_date, ransomware: row.ransomware === 1 };
}

/** The EPSS score of a CVE, or null when none was loaded for it. */
export function epssFor(db: Db, cveId: string): EpssScore | null {
  const row = db.prepare('SELECT score, percentile, score_date FROM epss WHERE cve_id = ?').get(cveId) as EpssRow | undefined;
  return row === undefined ? null : { score: row.score, percentile: row.percentile, date: row.score_date };
}

/** KEV and EPSS look-ups with their statements prepared once: a scan asks for every finding. */
export function intelLookup(db: Db): {
  kev(cveId: string): KevEntry | null;
  epss(cveId: string): EpssScore | null;
  newestRouterOs(channel: string): string | null;
} {
  const kev = db.prepare<[string], KevRow>('SELECT date_added, due_date, ransomware FROM kev WHERE cve_id = ?');
  const epss = db.prepare<[string], EpssRow>('SELECT score, percentile, score_date FROM epss WHERE cve_id = ?');
  const newest = db.prepare<[string], { version: string }>('SELECT version FROM routeros_releases WHERE channel = ?');
  return {
    newestRouterOs(channel) {
      return newest.get(channel)?.version ?? null;
    },
    kev(cveId) {
      const row = kev.get(cveId);
      return row === undefined ? null : { date_added: row.date_added, due_date: row.due_date, ransomware: row.ransomware === 1 };
    },
    epss(cveId) {
      const row = epss.get(cveId);
      return row === undefined ? null : { score: row.score, percentile: row.percentile, date: row.score_date };
    },
  };
}

/** The newest RouterOS version MikroTik publishes on a channel (stable, long-term, testing, development), or null. */
export function newestRouterOsRelease(db: Db, channel: string): string | null {
  const row = db.prepare('SELECT version FROM routeros_releases WHERE channel = ?').get(channel) as { version: string } | undefined;
  return row?.version ?? null;
}

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const kevCatalogSchema = z.object({
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

/**
 * Loads CISA's KEV catalog JSON (the file CISA publishes) into the `kev` table, replacing what
 * was there in one transaction. Used by tests and offline installs; the feed hub's source fetches.
 */
export function loadKevCatalog(db: Db, json: string): number {
  let parsed: z.infer<typeof kevCatalogSchema>;
  try {
    parsed = kevCatalogSchema.parse(JSON.parse(json));
  } catch (error) {
    throw new CveError('CVE_ERR_FEED_INVALID', 'the KEV catalog is not CISA KEV JSON', { cause: error });
  }
  const insert = db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    db.prepare('DELETE FROM kev').run();
    for (const v of parsed.vulnerabilities) {
      insert.run(v.cveID, v.dateAdded, v.dueDate ?? null, v.knownRansomwareCampaignUse === 'Known' ? 1 : 0, v.vendorProject, v.product, v.vulnerabilityName);
    }
  })();
  return parsed.vulnerabilities.length;
}

const epssRow = z.tuple([z.string().regex(/^CVE-\d{4}-\d{4,}$/), z.coerce.number().min(0).max(1), z.coerce.number().min(0).max(1)]);

/**
 * Loads FIRST's daily EPSS CSV (`#model_version:...,score_date:...` line, `cve,epss,percentile`
 * header, rows) into the `epss` table; rows already there for other CVEs are kept.
 */
export function loadEpssCsv(db: Db, csv: string): number {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const date = /score_date:(\d{4}-\d{2}-\d{2})/.exec(lines[0] ?? '')?.[1];
  if (date === undefined || lines[1]?.trim() !== 'cve,epss,percentile') {
    throw new CveError('CVE_ERR_FEED_INVALID', 'the EPSS file lacks its score_date line or cve,epss,percentile header');
  }
  const rows = lines.slice(2).map((line, index) => {
    const row = epssRow.safeParse(line.trim().split(','));
    if (!row.success) throw new CveError('CVE_ERR_FEED_INVALID', `the EPSS file has a malformed row at line ${index + 3}: ${line.slice(0, 80)}`);
    return row.data;
  });
  const insert = db.prepare('INSERT OR REPLACE INTO epss (cve_id, score, percentile, score_date) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [cve, score, percentile] of rows) insert.run(cve, score, percentile, date);
  })();
  return rows.length;
}

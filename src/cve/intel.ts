import type { Db } from '../shared/sqlite.js';
import { applyEpssCsv } from './sources/epss.js';
import { applyKevCatalog } from './sources/kev.js';

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

/** Loads CISA's KEV catalog JSON from a file given by hand (tests, the demo, offline installs). */
export function loadKevCatalog(db: Db, json: string, where = 'the KEV catalog file'): number {
  return applyKevCatalog(db, json, where, 'CVE_ERR_FEED_INVALID').rows;
}

/** Loads FIRST's daily EPSS CSV from a file given by hand; rows already there for other CVEs are kept. */
export function loadEpssCsv(db: Db, csv: string, where = 'the EPSS file'): number {
  return applyEpssCsv(db, csv, where, 'CVE_ERR_FEED_INVALID').rows;
}

import type { Migration } from '../shared/sqlite.js';

/**
 * cve.db, the CVE knowledge base: its own file so agent.db stays small, and because it can
 * always be rebuilt from a feed. Times are UTC ISO 8601.
 */
export const cveKnowledgeBaseMigration: Migration = {
  version: 1,
  name: 'cve knowledge base',
  sql: `
    -- What a finding shows, small columns first. Kept apart from the large JSON a finding
    -- does not need (cve_details), so a lookup reads one row that mostly fits one page.
    CREATE TABLE cves (
      key            INTEGER PRIMARY KEY,
      id             TEXT NOT NULL UNIQUE,
      published      TEXT NOT NULL,
      last_modified  TEXT NOT NULL,
      vuln_status    TEXT NOT NULL,
      score          REAL,
      severity       TEXT,
      score_version  TEXT,
      score_source   TEXT,
      score_type     TEXT,
      vector         TEXT,
      -- 0 when NVD has not analysed the record (no configurations): kept, never matched.
      analysed       INTEGER NOT NULL,
      cwes           TEXT NOT NULL,
      description    TEXT NOT NULL,
      -- The references tagged Patch, Vendor Advisory or Mitigation: a finding's advice.
      advice_refs    TEXT NOT NULL
    ) STRICT;
    -- feed status counts the unanalysed records without reading the whole table.
    CREATE INDEX cves_unanalysed ON cves (key) WHERE analysed = 0;

    -- Every CVSS metric, every reference with its tags, and the record's configurations
    -- exactly as NVD gives them (JSON; NULL when not analysed), read for AND/negate statements
    -- and full records only.
    CREATE TABLE cve_details (
      key            INTEGER PRIMARY KEY REFERENCES cves (key) ON DELETE CASCADE,
      metrics        TEXT NOT NULL,
      refs           TEXT NOT NULL,
      configurations TEXT
    ) STRICT;

    -- The vulnerable cpeMatch entries of a record, one row per (vendor, product, part), clustered
    -- by what a lookup knows: the vendor and product of the detected service. A lookup reads
    -- one contiguous range. entries is a JSON array of
    -- [position, criteria, startIncluding, startExcluding, endIncluding, endExcluding, standalone]
    -- where position counts the record's cpeMatch entries from 1 and standalone = 1 when the
    -- entry's configuration holds by that entry alone (one plain OR node): the raw
    -- configuration is read only for AND and negate statements. One row per product, not per
    -- entry, keeps the 300,000-record import to about a million rows instead of four.
    CREATE TABLE cpe_index (
      vendor  TEXT NOT NULL,
      product TEXT NOT NULL,
      part    TEXT NOT NULL,
      cve_key INTEGER NOT NULL,
      entries TEXT NOT NULL,
      PRIMARY KEY (vendor, product, part, cve_key)
    ) STRICT, WITHOUT ROWID;

    -- Which vendors NVD files a product name under, for lookups by product name alone.
    CREATE TABLE cpe_products (
      product TEXT NOT NULL,
      vendor  TEXT NOT NULL,
      part    TEXT NOT NULL,
      PRIMARY KEY (product, vendor, part)
    ) STRICT, WITHOUT ROWID;

    -- Rejected ids with the lastModified that rejected them, so an older copy of the record
    -- (a stale feed file) cannot bring a withdrawn CVE back.
    CREATE TABLE rejected_cves (
      id            TEXT PRIMARY KEY,
      last_modified TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;

    -- data_as_of, the update cursor, the last import: small key/value facts about the feed.
    CREATE TABLE feed_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
  `,
};

export const cveMigrations: readonly Migration[] = [cveKnowledgeBaseMigration];

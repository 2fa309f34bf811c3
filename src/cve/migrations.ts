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

/**
 * What turns a match into a verdict and a priority: the CISA KEV catalog, FIRST EPSS scores,
 * the Debian and Ubuntu trackers' per-release package status, and MikroTik's newest RouterOS
 * per channel. Each table is replaced or upserted by its source module (src/cve/sources/), in
 * one transaction per run, so a reader never sees half a catalog.
 */
export const cveIntelligenceMigration: Migration = {
  version: 2,
  name: 'cve intelligence: kev, epss, distro tracker status, routeros releases',
  sql: `
    -- The CISA Known Exploited Vulnerabilities catalog (one row per cveID).
    CREATE TABLE kev (
      cve_id      TEXT PRIMARY KEY,
      date_added  TEXT NOT NULL,            -- YYYY-MM-DD
      due_date    TEXT,                     -- YYYY-MM-DD
      ransomware  INTEGER NOT NULL,         -- 1 when knownRansomwareCampaignUse is "Known"
      vendor      TEXT NOT NULL,
      product     TEXT NOT NULL,
      name        TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;

    -- FIRST EPSS: the probability of exploitation in the next 30 days, as of score_date.
    CREATE TABLE epss (
      cve_id      TEXT PRIMARY KEY,
      score       REAL NOT NULL,
      percentile  REAL NOT NULL,
      score_date  TEXT NOT NULL             -- YYYY-MM-DD, the model's day
    ) STRICT, WITHOUT ROWID;

    -- A distribution tracker's verdict for one CVE in one source package of one release.
    -- status: 'fixed' (fixed_version is the first fixed package version; '0' = never vulnerable),
    -- 'vulnerable' (no fix released yet), 'not-affected', 'unknown' (undetermined, ignored,
    -- deferred, end of life: the tracker does not say). ref: the DSA/DLA/USN or tracker URL.
    CREATE TABLE distro_status (
      distro        TEXT NOT NULL,          -- 'debian' | 'ubuntu'
      release       TEXT NOT NULL,          -- codename: 'bookworm', 'jammy'
      package       TEXT NOT NULL,          -- source package: 'openssh', 'apache2'
      cve_id        TEXT NOT NULL,
      status        TEXT NOT NULL CHECK (status IN ('fixed', 'vulnerable', 'not-affected', 'unknown')),
      fixed_version TEXT,
      ref           TEXT,
      note          TEXT,
      PRIMARY KEY (distro, release, package, cve_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX distro_status_by_cve ON distro_status (cve_id);

    -- MikroTik's newest RouterOS per channel (stable, long-term, testing, development), as its
    -- routers' own update check reads it.
    CREATE TABLE routeros_releases (
      channel     TEXT PRIMARY KEY,
      version     TEXT NOT NULL,
      released    TEXT,                     -- ISO 8601 when the source says
      checked_at  TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
  `,
};

export const cveMigrations: readonly Migration[] = [cveKnowledgeBaseMigration, cveIntelligenceMigration];

import { KernelError } from '../shared/errors.js';
import type { Db, Migration } from '../shared/sqlite.js';
import { packStatements, packText } from './compact.js';
import { createCveStore } from './cve-store.js';
import type { NvdConfiguration } from './nvd-schema.js';
import { flattenGroups, indexGroups, needsStatements, type CveValues, type PreparedRecord } from './prepare.js';
import type { CveReference } from './record.js';

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

/** feed_meta key: set when migration 3 freed the space of the old tables; openCveDatabase then VACUUMs once. */
export const vacuumPendingKey = 'vacuum_pending';

interface V2Row {
  key: number;
  id: string;
  published: string;
  last_modified: string;
  vuln_status: string;
  score: number | null;
  severity: string | null;
  score_version: string | null;
  score_source: string | null;
  score_type: string | null;
  vector: string | null;
  cwes: string;
  description: string;
  advice_refs: string;
  configurations: string | null;
}

/** Rows of a version 2 cves (+ cve_details) as records the version 3 store applies. */
function preparedFromV2(row: V2Row): PreparedRecord {
  const configurations = row.configurations === null ? [] : (JSON.parse(row.configurations) as NvdConfiguration[]);
  const groups = indexGroups(configurations);
  const values: CveValues = [
    row.id,
    row.published,
    row.last_modified,
    row.vuln_status,
    row.score,
    row.severity,
    row.score_version,
    row.score_source,
    row.score_type,
    row.vector,
    row.configurations === null ? 0 : 1,
    row.cwes,
    packText(row.description, JSON.parse(row.advice_refs) as CveReference[]),
    needsStatements(groups) ? packStatements(configurations) : null,
  ];
  return { values, rejected: false, index: flattenGroups(groups) };
}

/**
 * A row our own version 2 writer stored always converts; one that does not means a damaged file.
 * The whole migration rolls back (the file stays at version 2, whole) and the open fails as a
 * corrupt database: cve.db is rebuildable, so the advice is to move it aside and import again.
 */
function convertible(row: V2Row): PreparedRecord {
  try {
    return preparedFromV2(row);
  } catch (error) {
    throw new KernelError(
      'DB_CORRUPT',
      `cve.db holds a record that cannot be converted to the compact store (${row.id}: ${(error as Error).message}); the file was left at schema version 2: move it aside and import the feed again`,
      { cause: error },
    );
  }
}

/** Converts every version 2 row, a page at a time (better-sqlite3 cannot write while a read iterates). */
function convertV2(db: Db): void {
  const store = createCveStore(db);
  const page = db.prepare<[number], V2Row>(
    `SELECT c.key, c.id, c.published, c.last_modified, c.vuln_status, c.score, c.severity, c.score_version, c.score_source,
            c.score_type, c.vector, c.cwes, c.description, c.advice_refs, d.configurations
       FROM cves_v2 c LEFT JOIN cve_details_v2 d ON d.key = c.key WHERE c.key > ? ORDER BY c.key LIMIT 1000`,
  );
  let after = 0;
  let converted = 0;
  for (;;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    store.applyBatch(rows.map(convertible));
    converted += rows.length;
    after = (rows.at(-1) as V2Row).key;
  }
  db.exec(`
    DROP TABLE cve_details_v2;
    DROP TABLE cves_v2;
    DROP TABLE cpe_index;
    DROP TABLE cpe_products_v2;
  `);
  // The old tables' pages are free now but the file keeps its size until a VACUUM, which cannot
  // run inside this transaction: openCveDatabase runs it once, after the migration commits.
  if (converted > 0) store.setMeta(vacuumPendingKey, String(converted));
}

/**
 * The compact store (issue 12, part 5): what matching and a finding need, and no raw NVD JSON.
 * cve_details (every metric and reference, configurations as NVD sent them: two thirds of the
 * file) goes; the control plane keeps full records in its feed.db and serves them. The
 * description and the advice references are deflated together; the configurations are kept
 * (deflated, without matchCriteriaId) only for records whose entries need their whole statement;
 * cpe_index becomes cpe_match, keyed by a product number instead of three names, its criteria
 * strings cut to what the row does not already say. 7.5 KB per CVE becomes about 1 KB.
 */
export const cveCompactMigration: Migration = {
  version: 3,
  name: 'compact store: no raw NVD JSON on the agent, cpe_match by product number',
  sql: `
    DROP INDEX cves_unanalysed;
    ALTER TABLE cve_details RENAME TO cve_details_v2;
    ALTER TABLE cves RENAME TO cves_v2;
    ALTER TABLE cpe_products RENAME TO cpe_products_v2;

    -- What a finding shows, and the statements matching reads for AND/negate entries.
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
      -- deflateRaw of JSON [description, [[url, ...tags], ...]]: the English description and the
      -- references tagged Patch, Vendor Advisory or Mitigation (a finding's advice). compact.ts.
      text           BLOB NOT NULL,
      -- deflateRaw of the configurations JSON without matchCriteriaId, only when some vulnerable
      -- entry is not standalone (AND, negate); NULL otherwise.
      statements     BLOB
    ) STRICT;
    CREATE INDEX cves_unanalysed ON cves (key) WHERE analysed = 0;

    -- Every (vendor, product, part) NVD names in a vulnerable entry, numbered. Looked up by
    -- product name alone too (services named without a vendor).
    CREATE TABLE cpe_products (
      key     INTEGER PRIMARY KEY,
      product TEXT NOT NULL,
      vendor  TEXT NOT NULL,
      part    TEXT NOT NULL,
      UNIQUE (product, vendor, part)
    ) STRICT;

    -- The vulnerable cpeMatch entries of a record, one row per product. id is the record's key
    -- times 2^16 plus the row's place (cve-store.ts): an import appends, so SQLite packs the pages
    -- full (clustered by product, random inserts left them 40 % empty), and an update deletes one
    -- id range. cpe_match_by_product finds a product's rows.
    -- entries is a flat JSON array, 7 values per entry:
    -- position (counts the record's cpeMatch entries from 1), the criteria after
    -- "cpe:2.3:part:vendor:product:" with trailing ":*" dropped (or whole when not verbatim),
    -- the four version bounds (0 when absent), standalone (1 when the entry's configuration
    -- holds by that entry alone). compact.ts.
    CREATE TABLE cpe_match (
      id          INTEGER PRIMARY KEY,
      product_key INTEGER NOT NULL,
      entries     TEXT NOT NULL
    ) STRICT;
    CREATE INDEX cpe_match_by_product ON cpe_match (product_key);
  `,
  run: convertV2,
};

export const cveMigrations: readonly Migration[] = [cveKnowledgeBaseMigration, cveIntelligenceMigration, cveCompactMigration];

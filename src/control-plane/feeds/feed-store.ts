import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import type { Logger } from 'pino';
import { openSqlite, type Db } from '../../shared/sqlite.js';
import { cveMigrations } from '../../cve/migrations.js';
import { createDeltaEncoder, intelligenceTables, tableKeys, type DeltaHeader, type DeltaLine, type IntelligenceTable } from '../../cve/delta.js';
import { intelLookup, type EpssScore, type KevEntry } from '../../cve/intel.js';

/** The hub's record of one CVE (GET /cves/{cve_id}). */
export interface HubCve {
  record: Record<string, unknown>;
  kev: KevEntry | null;
  epss: EpssScore | null;
  /** The hub's newest feed version when it was read. */
  feed_version: number;
}

/**
 * The control plane's master feed store, feed.db: a cve.db (the sources write it exactly as they
 * write an agent's) plus hub_* tables of its own. hub_* tables are created here rather than as
 * numbered migrations so they never collide with the cve.db migration numbers the agent shares.
 */
const hubSchema = `
  -- Every NVD record's raw JSON (brotli), so a delta carries what the agent's importer takes
  -- and the API serves the full record.
  CREATE TABLE IF NOT EXISTS hub_nvd_raw (
    id            TEXT PRIMARY KEY,
    last_modified TEXT NOT NULL,
    raw           BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
  -- A feed version: made after a source run that changed something.
  CREATE TABLE IF NOT EXISTS hub_versions (
    version    INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL
  ) STRICT;
  -- What each version changed: kind is 'nvd' or an intelligence table, key a JSON array.
  CREATE TABLE IF NOT EXISTS hub_changes (
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    version INTEGER NOT NULL REFERENCES hub_versions (version),
    PRIMARY KEY (kind, key, version)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS hub_changes_by_version ON hub_changes (version);
  -- Changes written by triggers since the last version: they survive a crash between a
  -- source's commit and the version that records it.
  CREATE TABLE IF NOT EXISTS hub_pending (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
  ) STRICT, WITHOUT ROWID;
  -- Each source's own date for what it last applied.
  CREATE TABLE IF NOT EXISTS hub_data_as_of (
    source      TEXT PRIMARY KEY,
    data_as_of  TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
`;

function keyExpression(table: IntelligenceTable, row: 'NEW' | 'OLD'): string {
  return `json_array(${tableKeys[table].map((column) => `${row}.${column}`).join(', ')})`;
}

function triggers(): string {
  const statements: string[] = [];
  for (const table of intelligenceTables) {
    for (const [event, row] of [
      ['INSERT', 'NEW'],
      ['UPDATE', 'NEW'],
      ['DELETE', 'OLD'],
    ] as const) {
      statements.push(`CREATE TRIGGER IF NOT EXISTS hub_track_${table}_${event.toLowerCase()} AFTER ${event} ON ${table}
        BEGIN INSERT OR IGNORE INTO hub_pending (kind, key) VALUES ('${table}', ${keyExpression(table, row)}); END;`);
    }
  }
  for (const event of ['INSERT', 'UPDATE'] as const) {
    statements.push(`CREATE TRIGGER IF NOT EXISTS hub_track_nvd_${event.toLowerCase()} AFTER ${event} ON hub_nvd_raw
      BEGIN INSERT OR IGNORE INTO hub_pending (kind, key) VALUES ('nvd', json_array(NEW.id)); END;`);
  }
  return statements.join('\n');
}

export interface FeedVersion {
  version: number;
  created_at: string;
}

export type FeedStore = ReturnType<typeof openFeedStore>;

export function openFeedStore({ file, logger }: { file: string; logger: Logger }) {
  const db: Db = openSqlite({ file, logger, migrations: cveMigrations });
  db.exec(hubSchema);
  db.exec(triggers());
  const intel = intelLookup(db);

  const statements = {
    raw: db.prepare<[string], { last_modified: string; raw: Buffer }>('SELECT last_modified, raw FROM hub_nvd_raw WHERE id = ?'),
    putRaw: db.prepare<[string, string, Buffer]>(
      `INSERT INTO hub_nvd_raw (id, last_modified, raw) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_modified = excluded.last_modified, raw = excluded.raw WHERE excluded.last_modified > hub_nvd_raw.last_modified`,
    ),
    allRawIds: db.prepare<[], { id: string }>('SELECT id FROM hub_nvd_raw ORDER BY id'),
    newest: db.prepare<[], { version: number | null }>('SELECT max(version) AS version FROM hub_versions'),
    version: db.prepare<[number], FeedVersion>('SELECT version, created_at FROM hub_versions WHERE version = ?'),
    pendingCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM hub_pending'),
    insertVersion: db.prepare<[number, string]>('INSERT INTO hub_versions (version, created_at) VALUES (?, ?)'),
    movePending: db.prepare<[number]>('INSERT INTO hub_changes (kind, key, version) SELECT kind, key, ? FROM hub_pending'),
    clearPending: db.prepare('DELETE FROM hub_pending'),
    // The KEV rows a version wrote that are in the catalog now (a removed one is not there).
    kevIn: db.prepare<[number], { cve_id: string; date_added: string; due_date: string | null; ransomware: number }>(
      `SELECT k.cve_id, k.date_added, k.due_date, k.ransomware FROM hub_changes c JOIN kev k ON k.cve_id = json_extract(c.key, '$[0]')
       WHERE c.kind = 'kev' AND c.version = ?`,
    ),
    changedSince: db.prepare<[number], { kind: string; key: string }>('SELECT DISTINCT kind, key FROM hub_changes WHERE version > ? ORDER BY kind, key'),
    changedCount: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM (SELECT DISTINCT kind, key FROM hub_changes WHERE version > ?)'),
    rawCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM hub_nvd_raw'),
    setDataAsOf: db.prepare<[string, string]>(
      'INSERT INTO hub_data_as_of (source, data_as_of) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET data_as_of = excluded.data_as_of',
    ),
    dataAsOf: db.prepare<[], { source: string; data_as_of: string }>('SELECT source, data_as_of FROM hub_data_as_of ORDER BY source'),
  };
  const rowStatements = new Map(
    intelligenceTables.map((table) => [
      table,
      {
        one: db.prepare(`SELECT * FROM ${table} WHERE ${tableKeys[table].map((column) => `${column} = ?`).join(' AND ')}`),
        all: db.prepare(`SELECT * FROM ${table} ORDER BY ${tableKeys[table].join(', ')}`),
        count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`),
      },
    ]),
  );

  function rawRecord(id: string): Record<string, unknown> | undefined {
    const row = statements.raw.get(id);
    return row ? (JSON.parse(brotliDecompressSync(row.raw).toString('utf8')) as Record<string, unknown>) : undefined;
  }

  function dataAsOf(): Record<string, string> {
    return Object.fromEntries(statements.dataAsOf.all().map((row) => [row.source, row.data_as_of]));
  }

  function newestVersion(): number {
    return statements.newest.get()?.version ?? 0;
  }

  function rowLine(table: IntelligenceTable, row: unknown): DeltaLine {
    return { t: table, row } as DeltaLine;
  }

  /**
   * Visits the lines of the delta from `from` in one read transaction (a consistent state): NVD
   * records first, then rows. Only keys are listed up front; each record or row is read as visited.
   */
  function eachLine(from: number, now: Date, visit: (line: DeltaLine) => void, begin?: (header: DeltaHeader) => void): DeltaHeader | undefined {
    const to = newestVersion();
    if (from >= to) return undefined;
    const snapshot = from === 0;
    const header: DeltaHeader = {
      format: 'edge-cve-delta/1',
      from: snapshot ? 0 : from,
      to,
      created_at: now.toISOString(),
      data_as_of: dataAsOf(),
      replace: snapshot ? [...intelligenceTables] : [],
    };
    begin?.(header);
    db.transaction(() => {
      if (snapshot) {
        for (const { id } of statements.allRawIds.all()) visit({ t: 'nvd', record: rawRecord(id) as DeltaLine & { id: string } });
        for (const table of intelligenceTables) for (const row of rowStatements.get(table)!.all.all()) visit(rowLine(table, row));
        return;
      }
      const changed = statements.changedSince.all(from);
      // NVD records before rows, as in a snapshot.
      for (const { kind, key } of [...changed.filter((c) => c.kind === 'nvd'), ...changed.filter((c) => c.kind !== 'nvd')]) {
        const parts = JSON.parse(key) as string[];
        if (kind === 'nvd') {
          const record = rawRecord(parts[0]!);
          if (record) visit({ t: 'nvd', record: record as { id: string } });
          continue;
        }
        const table = kind as IntelligenceTable;
        const row = rowStatements.get(table)!.one.get(...parts);
        visit(row ? rowLine(table, row) : { t: 'del', table, key: parts });
      }
    })();
    return header;
  }

  return {
    db,
    rawRecord,
    dataAsOf,
    newestVersion,
    version: (version: number) => statements.version.get(version),

    /** The KEV catalog entries a version added or changed, by CVE, in a finding's `kev` shape. */
    kevIn(version: number): Map<string, { date_added: string; due_date: string | null; ransomware: boolean }> {
      return new Map(
        statements.kevIn.all(version).map((row) => [row.cve_id, { date_added: row.date_added, due_date: row.due_date, ransomware: row.ransomware === 1 }]),
      );
    },

    /** Keeps raw NVD records (newer lastModified wins); called by the NVD source within its run. */
    keepRawRecords(records: readonly { id: string; lastModified: string }[]): void {
      db.transaction(() => {
        for (const record of records) statements.putRaw.run(record.id, record.lastModified, brotliCompressSync(JSON.stringify(record)));
      })();
    },

    setDataAsOf(source: string, value: string): void {
      statements.setDataAsOf.run(source, value);
    },

    /** Records a new feed version from the pending changes; undefined when nothing changed. */
    recordVersion(now: Date): FeedVersion | undefined {
      return db.transaction(() => {
        if ((statements.pendingCount.get()?.n ?? 0) === 0) return undefined;
        const version = newestVersion() + 1;
        const created_at = now.toISOString();
        statements.insertVersion.run(version, created_at);
        statements.movePending.run(version);
        statements.clearPending.run();
        return { version, created_at };
      })();
    },

    /** How many body lines buildDelta(from) would hold, counted without building it. */
    deltaLines(from: number): number {
      if (from >= newestVersion()) return 0;
      if (from > 0) return statements.changedCount.get(from)?.n ?? 0;
      let lines = statements.rawCount.get()?.n ?? 0;
      for (const table of intelligenceTables) lines += rowStatements.get(table)!.count.get()?.n ?? 0;
      return lines;
    },

    /**
     * The delta from `from` to the newest version: the current state of everything changed
     * after `from`, or (from = 0) a full snapshot. Undefined when the agent is up to date.
     */
    buildDelta(from: number, now: Date): { header: DeltaHeader; lines: DeltaLine[] } | undefined {
      const lines: DeltaLine[] = [];
      const header = eachLine(from, now, (line) => lines.push(line));
      return header === undefined ? undefined : { header, lines };
    },

    /** buildDelta encoded as it is read (gzip members): a large delta never sits in memory as lines. */
    writeDelta(from: number, now: Date): { header: DeltaHeader; bytes: Buffer; lines: number } | undefined {
      let encoder: ReturnType<typeof createDeltaEncoder> | undefined;
      const header = eachLine(
        from,
        now,
        (line) => encoder!.add(line),
        (first) => (encoder = createDeltaEncoder(first)),
      );
      return header === undefined || encoder === undefined ? undefined : { header, bytes: encoder.finish(), lines: encoder.lines };
    },

    /**
     * What the hub holds on one CVE, for the API: the NVD record as NVD published it (the agents
     * keep only what matching needs), its KEV entry and EPSS score; undefined without a record.
     */
    cve(id: string): HubCve | undefined {
      const record = rawRecord(id);
      if (record === undefined) return undefined;
      return { record, kev: intel.kev(id), epss: intel.epss(id), feed_version: newestVersion() };
    },

    close: () => db.close(),
  };
}

import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import type { Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../shared/sqlite.js';
import { createCveStore } from './cve-store.js';
import { CveError } from './errors.js';
import { importBatch } from './import.js';
import { metaKeys } from './update.js';

/**
 * A feed delta: what an agent at feed version `from` needs to reach version `to`, as gzip JSON
 * lines. Line 1 is the header; then the current state of everything changed after `from`
 * (NVD records as raw NVD JSON, so the agent's importer takes them, rejected ones included;
 * intelligence rows, or a `del` line when a row no longer exists); the last line counts the
 * lines before it, so a truncated file is rejected. `from` = 0 is a full snapshot: the tables
 * listed in `replace` are emptied before its rows go in.
 */
export const intelligenceTables = ['kev', 'epss', 'distro_status', 'routeros_releases'] as const;
export type IntelligenceTable = (typeof intelligenceTables)[number];

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const kevRowSchema = z.strictObject({
  cve_id: z.string().min(1),
  date_added: day,
  due_date: day.nullable(),
  ransomware: z.union([z.literal(0), z.literal(1)]),
  vendor: z.string(),
  product: z.string(),
  name: z.string(),
});
export const epssRowSchema = z.strictObject({
  cve_id: z.string().min(1),
  score: z.number().min(0).max(1),
  percentile: z.number().min(0).max(1),
  score_date: day,
});
export const distroStatusRowSchema = z.strictObject({
  distro: z.string().min(1),
  release: z.string().min(1),
  package: z.string().min(1),
  cve_id: z.string().min(1),
  status: z.enum(['fixed', 'vulnerable', 'not-affected', 'unknown']),
  fixed_version: z.string().nullable(),
  ref: z.string().nullable(),
  note: z.string().nullable(),
});
export const routerosReleaseRowSchema = z.strictObject({
  channel: z.string().min(1),
  version: z.string().min(1),
  released: z.string().nullable(),
  checked_at: z.string().min(1),
});

/** Each table's primary key columns, in order: what a `del` line names. */
export const tableKeys: Record<IntelligenceTable, readonly string[]> = {
  kev: ['cve_id'],
  epss: ['cve_id'],
  distro_status: ['distro', 'release', 'package', 'cve_id'],
  routeros_releases: ['channel'],
};

const rowSchemas = {
  kev: kevRowSchema,
  epss: epssRowSchema,
  distro_status: distroStatusRowSchema,
  routeros_releases: routerosReleaseRowSchema,
} as const;

export const deltaHeaderSchema = z.strictObject({
  format: z.literal('edge-cve-delta/1'),
  from: z.number().int().min(0),
  to: z.number().int().min(1),
  created_at: z.string().min(1),
  /** Per source (nvd, kev, epss, ...), the source's own date for the data held at `to`. */
  data_as_of: z.record(z.string(), z.string()),
  replace: z.array(z.enum(intelligenceTables)),
});
export type DeltaHeader = z.infer<typeof deltaHeaderSchema>;

const nvdLine = z.strictObject({ t: z.literal('nvd'), record: z.object({ id: z.string().min(1) }).passthrough() });
const rowLines = intelligenceTables.map((table) => z.strictObject({ t: z.literal(table), row: rowSchemas[table] }));
const delLine = z.strictObject({ t: z.literal('del'), table: z.enum(intelligenceTables), key: z.array(z.string().min(1)).min(1) });
const endLine = z.strictObject({ t: z.literal('end'), lines: z.number().int().min(1) });
const bodyLineSchema = z.union([nvdLine, delLine, ...rowLines]);
export type DeltaLine = z.infer<typeof bodyLineSchema>;

export interface Delta {
  header: DeltaHeader;
  lines: DeltaLine[];
}

export function encodeDelta({ header, lines }: Delta): Buffer {
  const text = [header, ...lines, { t: 'end', lines: lines.length + 1 }].map((line) => JSON.stringify(line)).join('\n') + '\n';
  return gzipSync(text);
}

function invalid(message: string, cause?: unknown): CveError {
  return new CveError('CVE_ERR_DELTA_INVALID', message, { cause });
}

/** Reads and validates a whole delta; any fault rejects the file before anything is applied. */
export function decodeDelta(bytes: Buffer): Delta {
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw invalid('feed delta is not gzip', error);
  }
  const raw = text.split('\n');
  if (raw.at(-1) === '') raw.pop();
  const parsed = raw.map((line, index) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (error) {
      throw invalid(`feed delta line ${index + 1} is not JSON`, error);
    }
  });
  const header = deltaHeaderSchema.safeParse(parsed[0]);
  if (!header.success) throw invalid(`feed delta header is invalid: ${header.error.issues[0]?.message ?? 'no header'}`);
  if (header.data.to <= header.data.from) throw invalid(`feed delta goes from ${header.data.from} to ${header.data.to}`);
  const end = endLine.safeParse(parsed.at(-1));
  if (parsed.length < 2 || !end.success || end.data.lines !== parsed.length - 1) throw invalid('feed delta is truncated (no matching end line)');
  const lines = parsed.slice(1, -1).map((line, index) => {
    const result = bodyLineSchema.safeParse(line);
    if (!result.success) throw invalid(`feed delta line ${index + 2} is invalid: ${result.error.issues[0]?.message ?? 'unknown'}`);
    return result.data;
  });
  for (const line of lines) {
    if (line.t === 'del' && line.key.length !== tableKeys[line.table].length) throw invalid(`feed delta del line for ${line.table} has a wrong key`);
  }
  return { header: header.data, lines };
}

/** The name a delta travels under (a `feed.file` transfer): the agent applies a file so named as a delta. */
export const deltaFileName = (from: number, to: number): string => `feed-delta-${from}-${to}.jsonl.gz`;
export const isDeltaFileName = (name: string): boolean => /^feed-delta-\d+-\d+\.jsonl\.gz$/.test(name);

export const feedVersionKey = 'feed_version';
export const feedDataAsOfKey = 'feed_data_as_of';
/**
 * What the last deltas applied changed, newest last (JSON list of at most 20: from, to, CVE records
 * added, updated and removed, intelligence rows): the agent's re-match names its trigger from it.
 */
export const lastDeltaKey = 'last_delta';

export interface AppliedDelta {
  version: number;
  records: number;
  rows: number;
  /** The cve.db already held `to` (a delta replayed after a lost ack): nothing was written. */
  skipped: boolean;
}

export interface ApplyOptions {
  /** Runs inside the transaction just before it commits (the agent's documented test hook for a kill mid-apply). */
  beforeCommit?: () => void;
}

/** The feed version a cve.db holds: 0 when it never took a delta. */
export function heldFeedVersion(db: Db): number {
  const row = db.prepare<[string], { value: string }>('SELECT value FROM feed_meta WHERE key = ?').get(feedVersionKey);
  return row ? Number(row.value) : 0;
}

/** The feed version a cve.db holds with each source's date for it, as an agent reports them. */
export function heldFeed(db: Db): { version: number; data_as_of: Record<string, string> } {
  const text = db.prepare<[string], { value: string }>('SELECT value FROM feed_meta WHERE key = ?').get(feedDataAsOfKey)?.value;
  return { version: heldFeedVersion(db), data_as_of: text === undefined ? {} : (JSON.parse(text) as Record<string, string>) };
}

/**
 * Applies a decoded delta to an agent's cve.db in ONE transaction: records through the import
 * API, then the intelligence rows, then feed_version and feed_data_as_of. A kill before the
 * commit leaves the previous version whole (SQLite's journal), so the spooled delta is applied
 * again on restart.
 *
 * A delta from an older version than the one held still applies: it carries the current state of
 * everything changed since its `from`, a superset of what changed since the held version. One
 * that reaches no further than the held version is skipped, so a replayed transfer is harmless.
 */
export function applyDelta(db: Db, delta: Delta, logger: Logger, options: ApplyOptions = {}): AppliedDelta {
  const applier = createApplier(db, delta.header, logger);
  db.transaction(() => {
    if (!applier.start()) return;
    for (const line of delta.lines) applier.line(line);
    applier.finish(options);
  })();
  return applier.result();
}

/**
 * A delta's writes, line by line in file order: NVD records in batches of 500 through the
 * importer, rows at once (no row depends on a record). The caller holds the transaction.
 */
function createApplier(db: Db, header: DeltaHeader, logger: Logger) {
  const store = createCveStore(db);
  const pending: Record<string, unknown>[] = [];
  const upserts = new Map<IntelligenceTable, Statement<unknown[]>>();
  const deletes = new Map<IntelligenceTable, Statement<unknown[]>>();
  let rows = 0;
  let records = 0;
  let skipped = false;
  const cves = { added: 0, updated: 0, removed: 0 };
  const flush = () => {
    if (pending.length === 0) return;
    const counts = importBatch(store, pending.splice(0), { source: `feed delta ${header.from}→${header.to}`, logger });
    cves.added += counts.inserted;
    cves.updated += counts.updated;
    cves.removed += counts.removed;
  };
  return {
    /** False when the cve.db already holds `to` (nothing to write). */
    start(): boolean {
      const held = heldFeedVersion(db);
      if (header.to <= held) {
        skipped = true;
        return false;
      }
      if (header.from !== 0 && header.from > held) {
        throw new CveError('CVE_ERR_DELTA_VERSION', `feed delta starts at version ${header.from}; this cve.db holds version ${held}`);
      }
      const replaced = header.from === 0 ? header.replace : [];
      for (const name of replaced) db.exec(`DELETE FROM ${name}`);
      return true;
    },
    line(line: DeltaLine): void {
      if (line.t === 'nvd') {
        pending.push(line.record);
        records += 1;
        if (pending.length >= 500) flush();
        return;
      }
      rows += 1;
      if (line.t === 'del') {
        let statement = deletes.get(line.table);
        if (!statement) {
          statement = db.prepare<unknown[]>(`DELETE FROM ${line.table} WHERE ${tableKeys[line.table].map((key) => `${key} = ?`).join(' AND ')}`);
          deletes.set(line.table, statement);
        }
        statement.run(...line.key);
        return;
      }
      let statement = upserts.get(line.t);
      if (!statement) {
        const columns = Object.keys(rowSchemas[line.t].shape);
        statement = db.prepare<unknown[]>(`INSERT OR REPLACE INTO ${line.t} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
        upserts.set(line.t, statement);
      }
      statement.run(line.row);
    },
    finish(options: ApplyOptions): void {
      flush();
      store.setMeta(feedVersionKey, String(header.to));
      store.setMeta(feedDataAsOfKey, JSON.stringify(header.data_as_of));
      const earlier = store.getMeta(lastDeltaKey);
      const kept = (earlier === undefined ? [] : (JSON.parse(earlier) as unknown[])).slice(-19);
      store.setMeta(lastDeltaKey, JSON.stringify([...kept, { from: header.from, to: header.to, ...cves, rows }]));
      // The hub's NVD date is this data's too: `feed status` ages it from there, and a later
      // `feed update` of a standalone agent starts its window there.
      const hubNvd = header.data_as_of.nvd;
      const ownNvd = store.getMeta(metaKeys.dataAsOf);
      if (hubNvd !== undefined && (ownNvd === undefined || hubNvd > ownNvd)) store.setMeta(metaKeys.dataAsOf, hubNvd);
      options.beforeCommit?.();
    },
    result(): AppliedDelta {
      return skipped ? { version: heldFeedVersion(db), records: 0, rows: 0, skipped } : { version: header.to, records, rows, skipped };
    },
  };
}

/** The text lines of a gzip file (one or more gzip members), read as a stream: never the whole text in memory. */
async function* textLines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const gunzip = createGunzip();
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of gunzip) {
      const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = parts.pop() ?? '';
      yield* parts;
    }
  } catch (error) {
    throw invalid('feed delta is not gzip, or is cut short', error);
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}

/** Each line of a delta file parsed and checked, in order; the end line last. */
type FileLine = { kind: 'header'; header: DeltaHeader } | { kind: 'body'; line: DeltaLine } | { kind: 'end' };

async function* deltaFileLines(file: string): AsyncGenerator<FileLine> {
  let index = 0;
  let ended = false;
  for await (const text of textLines(file)) {
    index += 1;
    if (ended) throw invalid(`feed delta line ${index} follows the end line`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw invalid(`feed delta line ${index} is not JSON`, error);
    }
    if (index === 1) {
      const header = deltaHeaderSchema.safeParse(parsed);
      if (!header.success) throw invalid(`feed delta header is invalid: ${header.error.issues[0]?.message ?? 'no header'}`);
      if (header.data.to <= header.data.from) throw invalid(`feed delta goes from ${header.data.from} to ${header.data.to}`);
      yield { kind: 'header', header: header.data };
      continue;
    }
    const end = endLine.safeParse(parsed);
    if (end.success) {
      if (end.data.lines !== index - 1) throw invalid('feed delta is truncated (no matching end line)');
      ended = true;
      yield { kind: 'end' };
      continue;
    }
    const body = bodyLineSchema.safeParse(parsed);
    if (!body.success) throw invalid(`feed delta line ${index} is invalid: ${body.error.issues[0]?.message ?? 'unknown'}`);
    if (body.data.t === 'del' && body.data.key.length !== tableKeys[body.data.table].length)
      throw invalid(`feed delta del line for ${body.data.table} has a wrong key`);
    yield { kind: 'body', line: body.data };
  }
  if (!ended) throw invalid('feed delta is truncated (no matching end line)');
}

/**
 * applyDelta for a delta file of any size: read twice as a stream, never whole in memory. The
 * first pass checks every line (a truncated or altered file is refused before anything is
 * written); the second applies them in ONE transaction on this connection, which the caller must
 * not use meanwhile. A kill before the commit leaves the previous version whole.
 */
export async function applyDeltaFile(db: Db, file: string, logger: Logger, options: ApplyOptions = {}): Promise<AppliedDelta & { header: DeltaHeader }> {
  let header: DeltaHeader | undefined;
  for await (const entry of deltaFileLines(file)) if (entry.kind === 'header') header = entry.header;
  if (header === undefined) throw invalid('feed delta is empty');
  const applier = createApplier(db, header, logger);
  db.exec('BEGIN IMMEDIATE');
  try {
    if (applier.start()) {
      for await (const entry of deltaFileLines(file)) if (entry.kind === 'body') applier.line(entry.line);
      applier.finish(options);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  return { ...applier.result(), header };
}

/**
 * Writes a delta line by line into gzip members of about 4 MB of text each (one gzip stream
 * to any reader), so building a large one holds its compressed bytes, never its lines.
 */
export function createDeltaEncoder(header: DeltaHeader, memberChars = 4_000_000) {
  const members: Buffer[] = [];
  let batch: string[] = [JSON.stringify(header)];
  let batchChars = batch[0]!.length;
  let lines = 0;
  const flush = () => {
    if (batch.length === 0) return;
    members.push(gzipSync(batch.join('\n') + '\n'));
    batch = [];
    batchChars = 0;
  };
  return {
    add(line: DeltaLine): void {
      const text = JSON.stringify(line);
      batch.push(text);
      batchChars += text.length;
      lines += 1;
      if (batchChars > memberChars) flush();
    },
    get lines(): number {
      return lines;
    },
    finish(): Buffer {
      batch.push(JSON.stringify({ t: 'end', lines: lines + 1 }));
      flush();
      return Buffer.concat(members);
    },
  };
}

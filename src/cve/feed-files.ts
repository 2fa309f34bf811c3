import { isAscii } from 'node:buffer';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CveError } from './errors.js';
import { splitPage } from './page-splitter.js';

/**
 * Feed files as NVD and its mirrors publish them: one record per file
 * (`CVE-2024-6387.json`, the `cve` object of an API answer), a whole API page
 * (`{resultsPerPage, startIndex, totalResults, …, vulnerabilities: [{cve}]}`), either of them
 * gzipped, or a directory tree of such files.
 */

/** One record of a feed file: still JSON bytes when it came from a page, parsed otherwise. */
export type FeedItem = { bytes: Buffer } | { value: unknown };

export interface FeedChunk {
  /** The file (and for a page, the position) the records came from, for log lines. */
  source: string;
  items: FeedItem[];
}

const feedFile = /\.json(\.gz)?$|\.gz$/i;
const gzipMagic = Buffer.from([0x1f, 0x8b]);

function invalid(source: string, reason: string, cause?: unknown): CveError {
  return new CveError('CVE_ERR_FEED_INVALID', `${source}: ${reason}`, cause === undefined ? undefined : { cause });
}

function gunzipped(bytes: Buffer, source: string): Buffer {
  try {
    return bytes.subarray(0, 2).equals(gzipMagic) ? gunzipSync(bytes) : bytes;
  } catch (error) {
    throw invalid(source, `not a readable gzip file (${(error as Error).message})`, error);
  }
}

/**
 * NVD feeds are mostly ASCII (the mirror escapes everything else as \uXXXX): a one-byte string
 * is far faster to make than a UTF-8 decode, and the same text.
 */
function text(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

function unwrap(element: unknown): unknown {
  return element !== null && typeof element === 'object' && 'cve' in element ? (element as { cve: unknown }).cve : element;
}

/** Decodes one feed file's bytes (gzip or not) into its records. */
export function parseFeedBytes(bytes: Buffer, source: string): FeedChunk {
  const plain = gunzipped(bytes, source);
  const page = splitPage(plain);
  if (page) return { source, items: page.elements.map((element) => ({ bytes: element })) };
  let document: unknown;
  try {
    document = JSON.parse(text(plain));
  } catch (error) {
    throw invalid(source, `not JSON (${(error as Error).message})`, error);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw invalid(source, 'expected an NVD CVE record or an NVD CVE API 2.0 page');
  const object = document as Record<string, unknown>;
  if (Array.isArray(object.vulnerabilities)) return { source, items: object.vulnerabilities.map((element: unknown) => ({ value: unwrap(element) })) };
  if ('cve' in object && typeof object.cve === 'object') return { source, items: [{ value: object.cve }] };
  if ('id' in object) return { source, items: [{ value: object }] };
  throw invalid(source, 'expected an NVD CVE record or an NVD CVE API 2.0 page (no id, no vulnerabilities)');
}

/** The record of an item, or why it cannot be one (its CVE id found in the text, if any). */
export function resolveItem(item: FeedItem): { ok: true; record: unknown } | { ok: false; cve: string; reason: string } {
  if ('value' in item) return { ok: true, record: item.value };
  const json = text(item.bytes);
  try {
    return { ok: true, record: unwrap(JSON.parse(json)) };
  } catch (error) {
    const id = /"id"\s*:\s*"(CVE-[^"]{1,40})"/.exec(json)?.[1] ?? '(no id)';
    return { ok: false, cve: id, reason: `not valid JSON (${(error as Error).message})` };
  }
}

function listFeedFiles(root: string): string[] {
  let stat;
  try {
    stat = statSync(root);
  } catch (error) {
    throw new CveError('CVE_ERR_FEED_UNREADABLE', `cannot read ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  if (stat.isFile()) return [root];
  if (!stat.isDirectory()) throw new CveError('CVE_ERR_FEED_UNREADABLE', `${root} is neither a file nor a directory`);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && feedFile.test(entry.name)) files.push(full);
    }
  };
  walk(root);
  return files;
}

/**
 * Reads feed files one at a time and yields records in chunks of at most `batchSize`, so a
 * directory of 300,000 single-record files or 150 pages of 2,000 never sits in memory whole.
 */
export function* readFeedChunks(roots: readonly string[], batchSize: number, signal?: AbortSignal): Generator<FeedChunk> {
  let pending: FeedChunk = { source: '', items: [] };
  for (const root of roots) {
    for (const file of listFeedFiles(root)) {
      signal?.throwIfAborted();
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new CveError('CVE_ERR_FEED_UNREADABLE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
          cause: error,
        });
      }
      const chunk = parseFeedBytes(bytes, file);
      if (chunk.items.length >= batchSize / 2) {
        // A page is already a batch: keep its records together.
        for (let start = 0; start < chunk.items.length; start += batchSize) {
          yield { source: chunk.items.length > batchSize ? `${file}#${start}` : file, items: chunk.items.slice(start, start + batchSize) };
        }
        continue;
      }
      pending.source = pending.items.length === 0 ? file : pending.source;
      pending.items.push(...chunk.items);
      if (pending.items.length >= batchSize) {
        yield pending;
        pending = { source: '', items: [] };
      }
    }
  }
  if (pending.items.length > 0) yield pending;
}

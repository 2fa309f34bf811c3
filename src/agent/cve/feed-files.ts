import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AgentError } from '../errors.js';

/**
 * Feed files as NVD and its mirrors publish them: one record per file
 * (`CVE-2024-6387.json`, the `cve` object of an API answer), a whole API page
 * (`{resultsPerPage, startIndex, totalResults, …, vulnerabilities: [{cve}]}`), either of them
 * gzipped, or a directory tree of such files.
 */

export interface FeedChunk {
  /** The file (and for a page, the position) the records came from, for log lines. */
  source: string;
  records: unknown[];
  /** The page's `timestamp` when the file is an API page. */
  timestamp?: string | undefined;
}

const feedFile = /\.json(\.gz)?$|\.gz$/i;
const gzipMagic = Buffer.from([0x1f, 0x8b]);

function invalid(source: string, reason: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_ERR_CVE_FEED_INVALID', `${source}: ${reason}`, cause === undefined ? undefined : { cause });
}

/** Decodes one feed file's bytes (gzip or not) into its records. */
export function parseFeedBytes(bytes: Buffer, source: string): FeedChunk {
  let text: string;
  try {
    text = (bytes.subarray(0, 2).equals(gzipMagic) ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (error) {
    throw invalid(source, `not a readable gzip file (${(error as Error).message})`, error);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `not JSON (${(error as Error).message})`, error);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw invalid(source, 'expected an NVD CVE record or an NVD CVE API 2.0 page');
  const object = document as Record<string, unknown>;
  if (Array.isArray(object.vulnerabilities)) {
    const records = object.vulnerabilities.map((item: unknown) => (item !== null && typeof item === 'object' && 'cve' in item ? (item as { cve: unknown }).cve : item));
    return { source, records, timestamp: typeof object.timestamp === 'string' ? object.timestamp : undefined };
  }
  if ('cve' in object && typeof object.cve === 'object') return { source, records: [object.cve] };
  if ('id' in object) return { source, records: [object] };
  throw invalid(source, 'expected an NVD CVE record or an NVD CVE API 2.0 page (no id, no vulnerabilities)');
}

function listFeedFiles(root: string): string[] {
  let stat;
  try {
    stat = statSync(root);
  } catch (error) {
    throw new AgentError('AGENT_ERR_CVE_FEED_UNREADABLE', `cannot read ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  if (stat.isFile()) return [root];
  if (!stat.isDirectory()) throw new AgentError('AGENT_ERR_CVE_FEED_UNREADABLE', `${root} is neither a file nor a directory`);
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
  let pending: FeedChunk = { source: '', records: [] };
  for (const root of roots) {
    for (const file of listFeedFiles(root)) {
      signal?.throwIfAborted();
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new AgentError('AGENT_ERR_CVE_FEED_UNREADABLE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
      }
      const chunk = parseFeedBytes(bytes, file);
      if (chunk.records.length >= batchSize / 2) {
        // A page is already a batch: keep its records together (and its timestamp with them).
        for (let start = 0; start < chunk.records.length; start += batchSize) {
          yield { source: chunk.records.length > batchSize ? `${file}#${start}` : file, records: chunk.records.slice(start, start + batchSize), timestamp: chunk.timestamp };
        }
        continue;
      }
      pending.source = pending.records.length === 0 ? file : pending.source;
      pending.records.push(...chunk.records);
      if (pending.records.length >= batchSize) {
        yield pending;
        pending = { source: '', records: [] };
      }
    }
  }
  if (pending.records.length > 0) yield pending;
}

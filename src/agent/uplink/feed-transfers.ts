/**
 * CVE feed files pushed in `feed.file` chunks. Each chunk is spooled to disk as it comes (a chunk
 * acknowledged is never asked for again, so it must survive a restart); when the last one is in,
 * the file is put together on disk chunk by chunk, its size and sha256 checked, and imported into
 * cve.db by the feed importer, which parses in a worker with a bounded heap: a large feed never
 * sits in this thread's memory whole.
 *
 * A file named as a feed delta (`feed-delta-<from>-<to>.jsonl.gz`, docs/feeds.md) is read as a
 * stream and checked whole (a truncated or altered one is refused before anything is written), then
 * applied to cve.db in one transaction: a kill mid-apply leaves the previous version in use, and the chunks stay spooled
 * until the apply commits, so the replay of the unacknowledged last chunk applies it again.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FeedFile } from '../../protocol/index.js';
import { importFeedFiles, type ImportCounts } from '../../cve/import.js';
import { CveError } from '../../cve/errors.js';
import { applyDeltaFile, heldFeed, isDeltaFileName, type AppliedDelta } from '../../cve/delta.js';
import { openCveDatabase } from '../cve/cve-database.js';
import type { AgentFeed } from '../../protocol/index.js';

/** A pushed feed file is refused beyond this (the NVD's yearly files are well under it, gzipped). */
export const MAX_FEED_FILE_BYTES = 512 * 1024 * 1024;

export type FeedChunkResult =
  | { state: 'incomplete'; received: number }
  | { state: 'imported'; name: string; counts: ImportCounts }
  | { state: 'applied'; name: string; delta: AppliedDelta; feed: AgentFeed };

/**
 * Test hook, for the kill -9 test only (test/integration/uplink/feed-push.test.ts): with this
 * variable set to a file path, the apply of a delta writes that file inside its transaction and
 * then blocks for a minute, so the test can kill the process mid-apply deterministically.
 */
export const HOLD_DELTA_APPLY_ENV = 'CVE_AGENT_TEST_HOLD_DELTA_APPLY';

function holdInsideTransaction(marker: string): void {
  writeFileSync(marker, String(process.pid));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

type TransferHeader = Pick<FeedFile, 'transfer_id' | 'name' | 'sha256' | 'size' | 'chunk_count'>;

export class FeedTransfers {
  readonly #root: string;
  readonly #stateDir: string;
  readonly #logger: Logger;

  constructor(deps: { stateDir: string; logger: Logger }) {
    this.#stateDir = deps.stateDir;
    this.#root = path.join(deps.stateDir, 'uplink-feeds');
    this.#logger = deps.logger.child({ component: 'uplink-feed' });
  }

  async receive(chunk: FeedFile, signal?: AbortSignal): Promise<FeedChunkResult> {
    if (chunk.size > MAX_FEED_FILE_BYTES)
      throw new CveError('CVE_ERR_FEED_INVALID', `feed ${chunk.name} is ${chunk.size} bytes, more than the ${MAX_FEED_FILE_BYTES} allowed`);
    if (chunk.chunk_index >= chunk.chunk_count)
      throw new CveError('CVE_ERR_FEED_INVALID', `chunk ${chunk.chunk_index} of a ${chunk.chunk_count}-chunk transfer`);
    const dir = path.join(this.#root, chunk.transfer_id);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const header: TransferHeader = { transfer_id: chunk.transfer_id, name: chunk.name, sha256: chunk.sha256, size: chunk.size, chunk_count: chunk.chunk_count };
    const headerFile = path.join(dir, 'transfer.json');
    if (existsSync(headerFile)) {
      const first = JSON.parse(readFileSync(headerFile, 'utf8')) as TransferHeader;
      if (JSON.stringify(first) !== JSON.stringify(header)) {
        throw new CveError('CVE_ERR_FEED_INVALID', `chunk ${chunk.chunk_index} disagrees with the first chunk of transfer ${chunk.transfer_id}`);
      }
    } else {
      writeFileSync(headerFile, JSON.stringify(header));
    }
    const partFile = path.join(dir, `${chunk.chunk_index}.part`);
    // Written aside and renamed, so a chunk file on disk is always a whole chunk.
    writeFileSync(`${partFile}.tmp`, Buffer.from(chunk.data, 'base64'));
    renameSync(`${partFile}.tmp`, partFile);
    const received = readdirSync(dir).filter((name) => name.endsWith('.part')).length;
    if (received < chunk.chunk_count) return { state: 'incomplete', received };
    try {
      const file = this.#assemble(dir, header);
      const result: FeedChunkResult = isDeltaFileName(header.name)
        ? { state: 'applied', name: chunk.name, ...(await this.#applyDelta(file, header)) }
        : { state: 'imported', name: chunk.name, counts: await this.#import(file, header, signal) };
      rmSync(dir, { recursive: true, force: true });
      return result;
    } catch (error) {
      // A bad file is dropped; an import cut short by a stop keeps its chunks for the replay of this last one.
      if (error instanceof CveError) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The feed version cve.db holds, as hello and heartbeats report it. */
  heldFeed(): AgentFeed {
    const cveDb = openCveDatabase({ stateDir: this.#stateDir, logger: this.#logger });
    try {
      return heldFeed(cveDb.db);
    } finally {
      cveDb.close();
    }
  }

  #assemble(dir: string, header: TransferHeader): string {
    // Apart from the chunk files and the header, whatever the pushed name; started afresh if a crash left half of it.
    const assembled = path.join(dir, 'assembled');
    rmSync(assembled, { recursive: true, force: true });
    mkdirSync(assembled);
    const file = path.join(assembled, header.name);
    const hash = createHash('sha256');
    let size = 0;
    for (let index = 0; index < header.chunk_count; index += 1) {
      const part = readFileSync(path.join(dir, `${index}.part`));
      hash.update(part);
      size += part.length;
      appendFileSync(file, part);
    }
    if (size !== header.size) throw new CveError('CVE_ERR_FEED_INVALID', `feed ${header.name}: assembled ${size} bytes, expected ${header.size}`);
    if (hash.digest('hex') !== header.sha256) throw new CveError('CVE_ERR_FEED_INVALID', `feed ${header.name}: sha256 mismatch`);
    return file;
  }

  async #applyDelta(file: string, header: TransferHeader): Promise<{ delta: AppliedDelta; feed: AgentFeed }> {
    const marker = process.env[HOLD_DELTA_APPLY_ENV];
    const cveDb = openCveDatabase({ stateDir: this.#stateDir, logger: this.#logger });
    try {
      // Streamed twice (checked, then applied in one transaction): a large delta never sits in memory whole.
      const { header: delta, ...applied } = await applyDeltaFile(
        cveDb.db,
        file,
        this.#logger,
        marker ? { beforeCommit: () => holdInsideTransaction(marker) } : {},
      );
      const feed = heldFeed(cveDb.db);
      this.#logger.info(
        {
          name: header.name,
          from: delta.from,
          to: delta.to,
          feed_version: feed.version,
          records: applied.records,
          rows: applied.rows,
          skipped: applied.skipped,
        },
        applied.skipped ? 'feed delta already held; nothing applied' : 'applied a feed delta pushed by the control plane',
      );
      return { delta: applied, feed };
    } finally {
      cveDb.close();
    }
  }

  async #import(file: string, header: TransferHeader, signal: AbortSignal | undefined): Promise<ImportCounts> {
    const cveDb = openCveDatabase({ stateDir: this.#stateDir, logger: this.#logger });
    try {
      const { counts } = await importFeedFiles({ store: cveDb.store, logger: this.#logger, paths: [file], signal });
      this.#logger.info({ name: header.name, bytes: header.size, ...counts }, 'imported a CVE feed pushed by the control plane');
      return counts;
    } finally {
      cveDb.close();
    }
  }
}

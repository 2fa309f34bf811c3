/**
 * CVE feed files pushed in `feed.file` chunks. Each chunk is spooled to disk as it comes (a chunk
 * acknowledged is never asked for again, so it must survive a restart); when the last one is in,
 * the file is put together on disk chunk by chunk, its size and sha256 checked, and imported into
 * cve.db by the feed importer, which parses in a worker with a bounded heap: a large feed never
 * sits in this thread's memory whole.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FeedFile } from '../../protocol/index.js';
import type { ImportCounts } from '../../cve/import.js';
import { CveError } from '../../cve/errors.js';

/** A pushed feed file is refused beyond this (the NVD's yearly files are well under it, gzipped). */
export const MAX_FEED_FILE_BYTES = 512 * 1024 * 1024;

export type FeedChunkResult = { state: 'incomplete'; received: number } | { state: 'imported'; name: string; counts: ImportCounts };

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
      const counts = await this.#assembleAndImport(dir, header, signal);
      rmSync(dir, { recursive: true, force: true });
      return { state: 'imported', name: chunk.name, counts };
    } catch (error) {
      // A bad file is dropped; an import cut short by a stop keeps its chunks for the replay of this last one.
      if (error instanceof CveError) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async #assembleAndImport(dir: string, header: TransferHeader, signal: AbortSignal | undefined): Promise<ImportCounts> {
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
    // Loaded when a feed arrives: an idle agent does not carry the importer.
    const [{ openCveDatabase }, { importFeedFiles }] = await Promise.all([import('../cve/cve-database.js'), import('../../cve/import.js')]);
    const cveDb = openCveDatabase({ stateDir: this.#stateDir, logger: this.#logger });
    try {
      const { counts } = await importFeedFiles({ store: cveDb.store, logger: this.#logger, paths: [file], signal });
      this.#logger.info({ name: header.name, bytes: size, ...counts }, 'imported a CVE feed pushed by the control plane');
      return counts;
    } finally {
      cveDb.close();
    }
  }
}

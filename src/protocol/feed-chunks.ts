/** Splitting a CVE feed file into `feed.file` chunks and putting it back together, hash-checked. */
import { createHash, randomUUID } from 'node:crypto';
import type { FeedFile } from './messages/commands.js';
import { FEED_CHUNK_BYTES } from './version.js';

export type FeedChunk = Omit<FeedFile, 'type' | 'seq' | 'issued_at'>;

export function splitFeedFile(name: string, bytes: Buffer, chunkBytes = FEED_CHUNK_BYTES): FeedChunk[] {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const transfer_id = randomUUID();
  const chunk_count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  return Array.from({ length: chunk_count }, (_, chunk_index) => ({
    transfer_id,
    name,
    sha256,
    size: bytes.length,
    chunk_index,
    chunk_count,
    data: bytes.subarray(chunk_index * chunkBytes, (chunk_index + 1) * chunkBytes).toString('base64'),
  }));
}

export type AssembleResult =
  { state: 'incomplete'; received: number } | { state: 'complete'; name: string; bytes: Buffer } | { state: 'invalid'; reason: string };

/**
 * Collects the chunks of one transfer. A chunk seen twice (a replay) is ignored; a chunk that
 * disagrees with the first one about the file, or a file whose hash or size is wrong, is invalid.
 */
export class FeedAssembler {
  readonly #chunks = new Map<number, Buffer>();
  #first: FeedChunk | undefined;

  add(chunk: FeedChunk): AssembleResult {
    const first = (this.#first ??= chunk);
    if (
      chunk.transfer_id !== first.transfer_id ||
      chunk.sha256 !== first.sha256 ||
      chunk.chunk_count !== first.chunk_count ||
      chunk.name !== first.name ||
      chunk.size !== first.size
    ) {
      return { state: 'invalid', reason: `chunk ${chunk.chunk_index} does not belong to transfer ${first.transfer_id}` };
    }
    if (chunk.chunk_index >= chunk.chunk_count) return { state: 'invalid', reason: `chunk ${chunk.chunk_index} of ${chunk.chunk_count}` };
    if (!this.#chunks.has(chunk.chunk_index)) this.#chunks.set(chunk.chunk_index, Buffer.from(chunk.data, 'base64'));
    if (this.#chunks.size < first.chunk_count) return { state: 'incomplete', received: this.#chunks.size };
    const bytes = Buffer.concat(Array.from({ length: first.chunk_count }, (_, i) => this.#chunks.get(i) as Buffer));
    if (bytes.length !== first.size) return { state: 'invalid', reason: `assembled ${bytes.length} bytes, expected ${first.size}` };
    if (createHash('sha256').update(bytes).digest('hex') !== first.sha256) return { state: 'invalid', reason: 'sha256 mismatch' };
    return { state: 'complete', name: first.name, bytes };
  }
}

/**
 * Reads the regular files of a tar archive (ustar, pax and GNU long names): all a tracker
 * snapshot (`git archive`, cgit's snapshot) needs. Fed chunk by chunk, so a snapshot of a whole
 * tracker repository is read file by file as it is decompressed, never held uncompressed.
 * Hand-written because the project has no tar dependency and this is short; a bad checksum or a
 * truncated archive throws TarError.
 */
export interface TarFile {
  path: string;
  body: Buffer;
}

export class TarError extends Error {}

const field = (block: Buffer, start: number, length: number): string => {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
};

export class TarReader {
  #pending: Buffer = Buffer.alloc(0);
  #offset = 0;
  #longName: string | undefined;
  #ended = false;

  /** Takes the next bytes of the archive; returns the files completed by them. */
  push(chunk: Buffer): TarFile[] {
    const files: TarFile[] = [];
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (!this.#ended && this.#pending.length >= 512) {
      const header = this.#pending.subarray(0, 512);
      if (header.every((byte) => byte === 0)) {
        this.#ended = true; // the end-of-archive blocks; what follows is padding
        break;
      }
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
      if (sum !== parseInt(field(header, 148, 8).trim(), 8)) throw new TarError(`tar header at byte ${this.#offset} has a bad checksum`);
      const size = parseInt(field(header, 124, 12).trim() || '0', 8);
      const blocks = 512 + Math.ceil(size / 512) * 512;
      if (this.#pending.length < blocks) break; // the body is still to come
      const body = Buffer.from(this.#pending.subarray(512, 512 + size));
      const type = String.fromCharCode(header[156] as number);
      const prefix = field(header, 345, 155);
      const name = this.#longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      this.#longName = undefined;
      if (type === 'L') this.#longName = body.toString('utf8').replace(/\0+$/, '');
      else if (type === 'x') this.#longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      else if (type === '0' || type === '\0') files.push({ path: name, body });
      this.#pending = this.#pending.subarray(blocks);
      this.#offset += blocks;
    }
    return files;
  }

  /** The archive has no more bytes: it must have ended properly. */
  end(): void {
    if (!this.#ended)
      throw new TarError(
        this.#pending.length > 0 ? `tar entry at byte ${this.#offset} is truncated` : 'the tar archive ends without its end-of-archive blocks',
      );
  }
}

/** Every regular file of a whole archive in memory. */
export function readTar(archive: Buffer): TarFile[] {
  const reader = new TarReader();
  const files = reader.push(archive);
  reader.end();
  return files;
}

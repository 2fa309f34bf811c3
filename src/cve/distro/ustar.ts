/**
 * Reads the regular files of an uncompressed tar archive (ustar, pax and GNU long names): all a
 * tracker snapshot (`git archive`, cgit's snapshot) needs. Hand-written because the project has
 * no tar dependency and this is 40 lines; a bad checksum or a truncated archive throws.
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

export function readTar(archive: Buffer): TarFile[] {
  const files: TarFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return files; // the end-of-archive blocks
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
    if (sum !== parseInt(field(header, 148, 8).trim(), 8)) throw new TarError(`tar header at byte ${offset} has a bad checksum`);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] as number);
    const bodyStart = offset + 512;
    if (bodyStart + size > archive.length) throw new TarError(`tar entry at byte ${offset} is truncated`);
    const body = archive.subarray(bodyStart, bodyStart + size);
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    else if (type === '0' || type === '\0') files.push({ path: name, body });
    offset = bodyStart + Math.ceil(size / 512) * 512;
  }
  throw new TarError('the tar archive ends without its end-of-archive blocks');
}

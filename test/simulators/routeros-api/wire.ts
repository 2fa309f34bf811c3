/**
 * The RouterOS API wire format, written from the MikroTik manual and independent of
 * node-routeros, so the simulator checks the client instead of agreeing with it.
 * A word is a length prefix then bytes; a sentence is words then a zero-length word.
 */

/** How many bytes the prefix takes: 1..5; 0 picks the shortest form, as RouterOS does. */
export type LengthWidth = 0 | 1 | 2 | 3 | 4 | 5;

const widthLimits = [0, 0x80, 0x4000, 0x200000, 0x10000000, 0x100000000];

export function shortestWidth(length: number): Exclude<LengthWidth, 0> {
  for (let width = 1; width <= 5; width++) if (length < (widthLimits[width] ?? 0)) return width as Exclude<LengthWidth, 0>;
  throw new RangeError(`word of ${length} bytes is too long for the API`);
}

/** The length prefix, at least `width` bytes: a wider form than needed is legal and tests the decoder's branches. */
export function encodeLength(length: number, width: LengthWidth = 0): Buffer {
  const use = Math.max(width, shortestWidth(length)) as Exclude<LengthWidth, 0>;
  switch (use) {
    case 1:
      return Buffer.from([length]);
    case 2:
      return Buffer.from([0x80 | (length >> 8), length & 0xff]);
    case 3:
      return Buffer.from([0xc0 | (length >> 16), (length >> 8) & 0xff, length & 0xff]);
    case 4:
      return Buffer.from([0xe0 | Math.floor(length / 0x1000000), (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
    case 5: {
      const out = Buffer.alloc(5);
      out[0] = 0xf0;
      out.writeUInt32BE(length, 1);
      return out;
    }
  }
}

/** RouterOS speaks Windows-1252 on the API; latin1 covers the bytes our fixtures use. */
export function encodeWord(word: string, width: LengthWidth = 0): Buffer {
  const bytes = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(bytes.length, width), bytes]);
}

export function encodeSentence(words: readonly string[], width: LengthWidth = 0): Buffer {
  return Buffer.concat([...words.map((word) => encodeWord(word, width)), Buffer.from([0])]);
}

export type DecodedLength = { size: number; length: number } | { error: string } | null;

export function decodeLength(data: Buffer, offset: number): DecodedLength {
  const available = data.length - offset;
  if (available < 1) return null;
  const first = data[offset] ?? 0;
  const size = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : first === 0xf0 ? 5 : 0;
  if (size === 0) return { error: `reserved length byte 0x${first.toString(16)}` };
  if (available < size) return null;
  if (size === 5) return { size, length: data.readUInt32BE(offset + 1) };
  const masks = [0, 0x7f, 0x3f, 0x1f, 0x0f];
  let length = first & (masks[size] ?? 0);
  for (let i = 1; i < size; i++) length = length * 256 + (data[offset + i] ?? 0);
  return { size, length };
}

/** Collects sentences from a byte stream however it is chunked. */
export class SentenceReader {
  #pending: Buffer = Buffer.alloc(0);
  #words: string[] = [];
  readonly #maxWord: number;

  constructor(maxWord = 1024 * 1024) {
    this.#maxWord = maxWord;
  }

  /** Returns the sentences completed by this chunk; throws on bytes that are not the API. */
  push(chunk: Buffer): string[][] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      const header = decodeLength(this.#pending, offset);
      if (header === null) break;
      if ('error' in header) throw new Error(header.error);
      if (header.length > this.#maxWord) throw new Error(`word of ${header.length} bytes`);
      const end = offset + header.size + header.length;
      if (end > this.#pending.length) break;
      if (header.length === 0) {
        sentences.push(this.#words);
        this.#words = [];
      } else {
        this.#words.push(this.#pending.toString('latin1', offset + header.size, end));
      }
      offset = end;
    }
    this.#pending = this.#pending.subarray(offset);
    return sentences;
  }
}

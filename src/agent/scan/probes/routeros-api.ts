import { confidence, evidenceText, located, type Identification } from '../service.js';
import type { BoundedSocket, ProbeContext, TcpProbe } from './io.js';

/** A RouterOS API word: its length (1 to 5 bytes, high bits say how many), then the bytes. */
export function encodeWord(word: string): Buffer {
  const bytes = Buffer.from(word, 'utf8');
  const length = bytes.length;
  let prefix: Buffer;
  if (length < 0x80) prefix = Buffer.from([length]);
  else if (length < 0x4000) prefix = Buffer.from([(length >> 8) | 0x80, length & 0xff]);
  else if (length < 0x200000) prefix = Buffer.from([(length >> 16) | 0xc0, (length >> 8) & 0xff, length & 0xff]);
  else prefix = Buffer.from([(length >> 24) | 0xe0, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  return Buffer.concat([prefix, bytes]);
}

/** Words of one reply sentence (up to the empty word), or null when the bytes are not API words. */
export function decodeSentence(data: Buffer): string[] | null {
  const words: string[] = [];
  let index = 0;
  while (index < data.length) {
    const first = data[index] ?? 0;
    let length: number;
    let size: number;
    if (first < 0x80) [length, size] = [first, 1];
    else if (first < 0xc0) [length, size] = [((first & 0x3f) << 8) | (data[index + 1] ?? 0), 2];
    else if (first < 0xe0) [length, size] = [((first & 0x1f) << 16) | ((data[index + 1] ?? 0) << 8) | (data[index + 2] ?? 0), 3];
    else return null;
    if (index + size + length > data.length) return null;
    if (length === 0) return words;
    words.push(data.subarray(index + size, index + size + length).toString('utf8'));
    index += size + length;
  }
  return null;
}

/** A reply to `/login` whose first word is `!done`, `!trap` or `!fatal` is the RouterOS API. */
export function parseApiReply(data: Buffer): Identification | null {
  const words = decodeSentence(data);
  if (!words || words.length === 0 || !['!done', '!trap', '!fatal'].includes(words[0] ?? '')) return null;
  return {
    service: 'routeros-api',
    product: 'MikroTik RouterOS',
    vendor: 'MikroTik',
    confidence: confidence.productOnly,
    evidence: evidenceText(words.join(' ')),
  };
}

async function askLogin(socket: BoundedSocket, context: ProbeContext, service: string) {
  try {
    socket.write(Buffer.concat([encodeWord('/login'), encodeWord('')]));
    const reply = await socket.read((received) => decodeSentence(received) !== null);
    const identified = parseApiReply(reply);
    return identified ? located({ ...identified, service }, context.port, 'tcp') : null;
  } finally {
    socket.close();
  }
}

export const routerOsApiProbe: TcpProbe = async (context) => {
  const socket = await context.open();
  return socket ? askLogin(socket, context, 'routeros-api') : null;
};

export const routerOsApiTlsProbe: TcpProbe = async (context) => {
  const secure = await context.openTls();
  return secure ? askLogin(secure.socket, context, 'routeros-api-ssl') : null;
};

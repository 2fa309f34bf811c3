import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';

/**
 * Host keys for the SSH simulator. RouterOS 6.x has a DSA host key only; node can make one but
 * exports it as PKCS#8, which ssh2 does not read, so it is rewritten into the traditional
 * `DSA PRIVATE KEY` form (SEQUENCE of version, p, q, g, y, x).
 */

interface Tlv {
  start: number;
  end: number;
}

function readTlv(der: Buffer, offset: number): Tlv {
  let length = der[offset + 1] ?? 0;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] ?? 0);
    header = 2 + count;
  }
  return { start: offset + header, end: offset + header + length };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function encodeTlv(tag: number, body: Buffer): Buffer {
  let length: Buffer;
  if (body.length < 0x80) length = Buffer.from([body.length]);
  else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

export function dsaHostKey(): string {
  const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const top = children(pkcs8, readTlv(pkcs8, 0));
  const algorithm = children(pkcs8, top[1] as Tlv);
  const [p, q, g] = children(pkcs8, algorithm[1] as Tlv).map((tlv) => pkcs8.subarray(tlv.start, tlv.end));
  const xTlv = readTlv(pkcs8, (top[2] as Tlv).start);
  const x = pkcs8.subarray(xTlv.start, xTlv.end);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const bitString = children(spki, readTlv(spki, 0))[1] as Tlv;
  const yTlv = readTlv(spki, bitString.start + 1);
  const y = spki.subarray(yTlv.start, yTlv.end);
  const sequence = encodeTlv(0x30, Buffer.concat([Buffer.from([0]), p, q, g, y, x].map((int) => encodeTlv(0x02, int as Buffer))));
  const lines = sequence.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN DSA PRIVATE KEY-----\n${lines.join('\n')}\n-----END DSA PRIVATE KEY-----\n`;
}

/**
 * An ed25519 key pair from ssh2, drawn again until its public key is well formed: ssh2 1.17's
 * generateKeyPairSync drops a leading zero byte of the 32-byte ed25519 key (about 1 key in 256),
 * giving a blob that OpenSSH refuses ("is not a public key file") and a host key a client rejects.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const blob = Buffer.from(pair.public.split(' ')[1] ?? '', 'base64');
    if (blob.length === 4 + 'ssh-ed25519'.length + 4 + 32) return pair;
  }
}

let modern: string | undefined;
let legacy: string | undefined;

/** Generated once per process: key generation is the slow part of starting a simulator. */
export function hostKey(kind: 'ed25519' | 'dsa'): string {
  if (kind === 'dsa') return (legacy ??= dsaHostKey());
  return (modern ??= ed25519KeyPair().private);
}

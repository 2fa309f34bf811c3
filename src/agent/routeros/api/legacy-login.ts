import { createHash } from 'node:crypto';

/**
 * The response RouterOS before 6.43 expects to its /login challenge:
 * "00" followed by md5(0x00, password bytes, challenge bytes) in hex.
 */
export function legacyLoginResponse(password: string, challengeHex: string): string {
  const digest = createHash('md5')
    .update(Buffer.from([0]))
    .update(Buffer.from(password, 'utf8'))
    .update(Buffer.from(challengeHex, 'hex'))
    .digest('hex');
  return `00${digest}`;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The X-Signature header of a webhook: `sha256=` and the hex HMAC-SHA256 of the exact body bytes. */
export const signBody = (body: string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

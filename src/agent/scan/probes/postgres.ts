import { confidence, located, type Identification } from '../service.js';
import type { TcpProbe } from './io.js';

/** SSLRequest (protocol 3): length 8, code 80877103. Every PostgreSQL answers one byte, S or N. */
export const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * PostgreSQL tells nothing of its version before authentication; say so instead of guessing.
 */
export function parseSslResponse(reply: Buffer): Identification | null {
  if (reply.length !== 1 || (reply[0] !== 0x53 && reply[0] !== 0x4e)) return null;
  const tls = reply[0] === 0x53;
  return {
    service: 'postgresql',
    product: 'PostgreSQL',
    confidence: confidence.productOnly,
    evidence: `SSLRequest answered '${tls ? 'S' : 'N'}'`,
    facts: { version: 'not disclosed before authentication', tls: tls ? 'offered' : 'not offered' },
  };
}

export const postgresProbe: TcpProbe = async (context) => {
  const socket = await context.open();
  if (!socket) return null;
  try {
    socket.write(SSL_REQUEST);
    // One byte and then silence: wait a little past it, so a chattier peer is not mistaken for PostgreSQL.
    const first = await socket.read((received) => received.length >= 1);
    const reply = first.length === 1 ? await socket.read((received) => received.length > 1, 100) : first;
    const identified = parseSslResponse(reply);
    return identified ? located(identified, context.port, 'tcp') : null;
  } finally {
    socket.close();
  }
};

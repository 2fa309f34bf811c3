import { confidence, evidenceText, located, type Identification } from '../service.js';
import type { TcpProbe } from './io.js';

/**
 * The reply to `INFO server` (RESP): a bulk string with `redis_version:7.0.15`, or an error
 * that still names Redis (`-NOAUTH`, `-DENIED ... protected mode`) without its version.
 */
export function parseRedisInfo(reply: string): Identification | null {
  if (reply.startsWith('$')) {
    const version = /^redis_version:(\d+\.\d+\.\d+)\s*$/m.exec(reply)?.[1];
    if (!version)
      return /redis_/m.test(reply)
        ? { service: 'redis', product: 'Redis', confidence: confidence.productOnly, evidence: evidenceText(reply.slice(0, 200)) }
        : null;
    const line = /^redis_version:.*$/m.exec(reply)?.[0] ?? '';
    return {
      service: 'redis',
      product: 'Redis',
      version,
      confidence: confidence.exactBanner,
      evidence: evidenceText(line.trim()),
    };
  }
  if (/^-(NOAUTH|DENIED|WRONGPASS|ERR)\b/.test(reply) && /redis|NOAUTH|protected mode/i.test(reply)) {
    return { service: 'redis', product: 'Redis', confidence: confidence.productOnly, evidence: evidenceText(reply.split('\r\n')[0] ?? '') };
  }
  return null;
}

function bulkComplete(received: Buffer): boolean {
  const text = received.toString('latin1');
  if (text.startsWith('-') || text.startsWith('+')) return text.includes('\r\n');
  const header = /^\$(-?\d+)\r\n/.exec(text);
  return header !== null && received.length >= header[0].length + Number(header[1]) + 2;
}

export const redisProbe: TcpProbe = async (context) => {
  const socket = await context.open();
  if (!socket) return null;
  try {
    socket.write('INFO server\r\n');
    const reply = await socket.read(bulkComplete);
    const identified = parseRedisInfo(reply.toString('latin1'));
    return identified ? located(identified, context.port, 'tcp') : null;
  } finally {
    socket.close();
  }
};

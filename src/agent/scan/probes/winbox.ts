import { confidence, located } from '../service.js';
import type { TcpProbe } from './io.js';

export const WINBOX_PORT = 8291;

/**
 * Winbox has no harmless request that makes RouterOS name itself without a login, so this only
 * says "tcp/8291 is open and waits for the client, as Winbox does": a port guess, reported as
 * such, never with a version.
 */
export const winboxProbe: TcpProbe = async (context) => {
  if (context.port !== WINBOX_PORT) return null;
  const socket = await context.open();
  if (!socket) return null;
  try {
    const said = await socket.read((received) => received.length > 0, Math.min(300, context.limits.stepTimeoutMs));
    if (said.length > 0) return null;
    return located(
      {
        service: 'winbox',
        product: 'MikroTik RouterOS',
        vendor: 'MikroTik',
        confidence: confidence.portGuess,
        evidence: 'tcp/8291 open and silent until the client speaks, as Winbox is',
      },
      context.port,
      'tcp',
    );
  } finally {
    socket.close();
  }
};

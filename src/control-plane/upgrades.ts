/**
 * The listener's one WebSocket upgrade dispatcher: the agents' hub and the console's live socket
 * share the port, and the path alone decides who takes an upgrade. An unknown path is 404 before
 * anything is read or authenticated.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Answers an upgrade with a plain HTTP response and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, body: string, contentType = 'text/plain'): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Installs the dispatcher on the server; returns the function that removes it. */
export function dispatchUpgrades(server: Server, routes: Readonly<Record<string, UpgradeHandler>>): () => void {
  const table = new Map(Object.entries(routes));
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reset while the refusal or the handshake is written must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    let path: string;
    try {
      path = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      return refuseUpgrade(socket, 400, 'Bad Request');
    }
    const handler = table.get(path);
    if (!handler) return refuseUpgrade(socket, 404, 'Not Found');
    handler(request, socket, head);
  };
  server.on('upgrade', onUpgrade);
  return () => void server.off('upgrade', onUpgrade);
}

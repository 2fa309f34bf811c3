import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { afterEach } from 'vitest';

/** Small TCP and UDP peers for the scanner tests, closed after each test. */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

export interface TestServer {
  address: string;
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  /** Bytes each connection sent to the server, in order. */
  received: Buffer[];
}

export async function tcpServer(address: string, port: number, onConnection: (socket: net.Socket, index: number) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  let count = 0;
  const server = net.createServer((socket) => {
    const index = count;
    count += 1;
    sockets.add(socket);
    received[index] = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index] ?? Buffer.alloc(0), chunk]);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket, index);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => resolve());
  });
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { address, port, connections: () => count, received };
}

export async function udpServer(address: string, port: number, answer: (message: Buffer) => Buffer | null): Promise<{ requests: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const requests: Buffer[] = [];
  socket.on('message', (message, remote) => {
    requests.push(message);
    const reply = answer(message);
    if (reply) socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(port, address, () => resolve()));
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { requests };
}

/** Open file descriptors of this process (sockets included). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Waits until the fd count is back at `baseline` (closing is asynchronous), or gives up. */
export async function settledFds(baseline: number, waitMs = 2000): Promise<number> {
  const until = Date.now() + waitMs;
  let now = openFds();
  while (now > baseline && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = openFds();
  }
  return now;
}

/** A RouterOS MNDP announcement: identity gw-lab, RouterOS 6.49.7 (stable). */
export function mndpReply(): Buffer {
  const tlv = (type: number, value: string) => {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(Buffer.byteLength(value), 2);
    return Buffer.concat([header, Buffer.from(value)]);
  };
  return Buffer.concat([Buffer.from([0, 0, 0, 0]), tlv(5, 'gw-lab'), tlv(7, '6.49.7 (stable)'), tlv(8, 'MikroTik')]);
}

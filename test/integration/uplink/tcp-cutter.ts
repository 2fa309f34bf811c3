/**
 * A TCP relay on 127.0.0.1 in front of the control plane that cuts connections at set points.
 * Once armed with a list of byte budgets, the live connection and then each new one is destroyed
 * (both sides, no close frame) after the agent sent its budget of bytes through it, which lands
 * mid-frame as often as not. When the list is used up, connections run uncut.
 */
import net from 'node:net';

export interface TcpCutter {
  url: string;
  /** Cuts the live connection after `budgets[0]` more bytes from the agent, the next one after `budgets[1]`, and so on. */
  arm(budgets: number[]): void;
  cuts(): number;
  close(): Promise<void>;
}

interface Relay {
  sent: number;
  cutAt: number | undefined;
}

export async function startTcpCutter(target: { host: string; port: number }, budgets: number[] = []): Promise<TcpCutter> {
  if (!target.host.startsWith('127.')) throw new Error('the cutter relays to loopback only');
  const queue = [...budgets];
  let cuts = 0;
  let live: Relay | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const budget = queue.shift();
    const relay: Relay = { sent: 0, cutAt: budget };
    live = relay;
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (relay.cutAt !== undefined && relay.sent + chunk.length >= relay.cutAt) {
        upstream.write(chunk.subarray(0, Math.max(0, relay.cutAt - relay.sent)));
        relay.cutAt = undefined;
        cuts += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      relay.sent += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    arm(next) {
      queue.push(...next);
      if (live && live.cutAt === undefined) {
        const first = queue.shift();
        if (first !== undefined) live.cutAt = live.sent + first;
      }
    },
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

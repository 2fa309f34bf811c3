import net from 'node:net';

export interface FakeService {
  host: string;
  port: number;
  /** Connections accepted so far: a resumed scan must not probe a finished host again. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A loopback TCP server (no test framework needed: benchmarks use it too) that speaks like a real daemon of a given version: it sends its
 * greeting (SSH, FTP) at once, or answers an HTTP request with the given Server header.
 * `tarpit` accepts and never says a word (a scan must not wait on it forever); `gate` holds the
 * greeting until it resolves.
 */
export async function startBannerServer(options: {
  host: string;
  port: number;
  greeting?: string;
  httpServer?: string;
  tarpit?: boolean;
  /** The greeting waits for this (a test holds a scan open at a known point, then lets it go on). */
  gate?: Promise<void>;
}): Promise<FakeService> {
  if (!options.host.startsWith('127.')) throw new Error('fake services listen on loopback only');
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (options.tarpit) return;
    if (options.greeting && options.gate) {
      const greeting = options.greeting;
      void options.gate.then(() => socket.writable && socket.write(greeting));
    } else if (options.greeting) socket.write(options.greeting);
    if (options.httpServer) {
      socket.once('data', () => {
        const body = '<html><head><title>Welcome</title></head><body>ok</body></html>';
        socket.end(
          `HTTP/1.1 200 OK\r\nServer: ${options.httpServer}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return { host: options.host, port: (server.address() as net.AddressInfo).port, connections: () => accepted, close };
}

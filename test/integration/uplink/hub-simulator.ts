/**
 * A scriptable stand-in for the control plane's hub, speaking the real wire protocol over a real
 * WebSocket on 127.0.0.1: it welcomes a hello, records every frame the agent sends, and lets the
 * test send anything back, garbage included, or go silent. Used where the real control plane
 * would never misbehave the way a test needs.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AGENT_PATH, PROTOCOL_VERSION, type Welcome } from '../../../src/protocol/index.js';

export interface HubConnection {
  index: number;
  headers: IncomingHttpHeaders;
  /** Frames from the agent, parsed. */
  frames: Record<string, unknown>[];
  closed: { code: number; reason: string } | undefined;
  send(data: string | Buffer, binary?: boolean): void;
  welcome(overrides?: Partial<Welcome>): void;
  terminate(): void;
}

export interface HubSimulator {
  url: string;
  connections: HubConnection[];
  waitFor(what: string, check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type WelcomeChoice = Partial<Welcome> | false;

/** `welcome`: what to answer a hello with (false: nothing, the test welcomes itself), or a choice per connection. */
export async function startHubSimulator(
  options: { welcome?: WelcomeChoice | ((index: number) => WelcomeChoice); ackReports?: boolean } = {},
): Promise<HubSimulator> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: AGENT_PATH, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const connections: HubConnection[] = [];
  server.on('connection', (ws: WebSocket, request) => {
    let siteId = '00000000-0000-4000-8000-000000000000';
    const connection: HubConnection = {
      index: connections.length,
      headers: request.headers,
      frames: [],
      closed: undefined,
      send: (data, binary = false) => ws.send(data, { binary }),
      welcome: (overrides = {}) =>
        ws.send(
          JSON.stringify({
            type: 'welcome',
            protocol: PROTOCOL_VERSION,
            server_version: 'hub-sim',
            site_id: siteId,
            resume_after_seq: 0,
            heartbeat_interval_ms: 10_000,
            max_frame_bytes: 512 * 1024,
            ...overrides,
          }),
        ),
      terminate: () => ws.terminate(),
    };
    connections.push(connection);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      connection.frames.push(frame);
      if (frame.type === 'hello') {
        siteId = String(frame.site_id);
        const choice = typeof options.welcome === 'function' ? options.welcome(connection.index) : options.welcome;
        if (choice !== false) connection.welcome(choice);
      } else if (options.ackReports && typeof frame.seq === 'number' && frame.type !== 'ack') {
        ws.send(JSON.stringify({ type: 'ack', seq: frame.seq }));
      }
    });
    ws.on('close', (code, reason) => (connection.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    async waitFor(what, check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`hub simulator: timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

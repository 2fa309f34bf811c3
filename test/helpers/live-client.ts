/**
 * A console page's live socket, as a test or a bench sees it: connects to /console/live with the
 * headers a browser or a script sends, keeps every message, and waits for the ones asked for.
 */
import WebSocket from 'ws';

export interface LiveFrame {
  type: string;
  cursor: number;
  [key: string]: unknown;
}

export interface LiveClient {
  ws: WebSocket;
  messages: LiveFrame[];
  /** The highest cursor received (the `since` of a reconnect). */
  readonly cursor: number;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (already received or to come) that matches. */
  waitFor(match: (message: LiveFrame) => boolean, timeoutMs?: number): Promise<LiveFrame>;
  close(): Promise<void>;
}

export type Refusal = { status: number; body: unknown };

function liveUrl(baseUrl: string, since?: number, path = '/console/live'): string {
  return `${baseUrl.replace(/^http/, 'ws')}${path}${since === undefined ? '' : `?since=${since}`}`;
}

/** Opens a live socket; rejects with the refusal (status and error object) when the upgrade is refused. */
export function openLive(baseUrl: string, options: { headers?: Record<string, string>; since?: number; path?: string } = {}): Promise<LiveClient> {
  const ws = new WebSocket(liveUrl(baseUrl, options.since, options.path), { headers: options.headers });
  const messages: LiveFrame[] = [];
  const waiters = new Set<() => void>();
  let cursor = 0;
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as LiveFrame;
    messages.push(message);
    cursor = Math.max(cursor, message.cursor);
    for (const wake of [...waiters]) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const client: LiveClient = {
    ws,
    messages,
    get cursor() {
      return cursor;
    },
    closed,
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching live message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.type))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // a plain-text refusal (the hub's)
        }
        reject(Object.assign(new Error(`live socket refused: HTTP ${response.statusCode}`), { refusal: { status: response.statusCode, body } }));
      });
    });
    ws.once('error', reject);
  });
}

/** The refusal of an upgrade that must be refused. */
export async function refusalOf(attempt: Promise<LiveClient>): Promise<Refusal> {
  try {
    const client = await attempt;
    await client.close();
  } catch (error) {
    const refusal = (error as { refusal?: Refusal }).refusal;
    if (refusal) return refusal;
    throw error;
  }
  throw new Error('the upgrade was accepted');
}

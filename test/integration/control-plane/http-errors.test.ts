/**
 * Item 9: every error is the seed's error object, the framework's own included (bad
 * percent-encoding, over-long path parameters, oversized headers, unsupported methods), a 401
 * carries `WWW-Authenticate: Bearer`, and a keep-alive connection survives any 4xx.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness();
  token = await h.jwt();
});
afterAll(async () => h.stop());

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A raw HTTP/1.1 connection: requests go out one after another on the same socket. */
async function connection() {
  const { port, hostname } = new URL(h.url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffer = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);
  const more = () => new Promise<void>((resolve) => (wake = resolve));

  async function read(): Promise<RawResponse> {
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (buffer.length >= end + 4 + length) {
          const text = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          buffer = buffer.subarray(end + 4 + length);
          return { status: Number(statusLine?.split(' ')[1]), headers, body: text === '' ? undefined : JSON.parse(text) };
        }
      }
      if (closed) throw new Error('the connection closed before a whole response');
      await more();
    }
  }

  return {
    async send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
      const all = {
        host: new URL(h.url).host,
        connection: 'keep-alive',
        ...headers,
        ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      };
      socket.write(
        `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n${body ?? ''}`,
      );
      return read();
    },
    get closed() {
      return closed;
    },
    end: () => socket.destroy(),
  };
}

const errorObject = (code: string) => ({ type: expect.any(String), code, message: expect.any(String), doc_url: `${h.url}/docs/errors/${code}` });
const auth = () => ({ authorization: `Bearer ${token}` });

describe("the framework's own errors use the seed's error object", () => {
  it('answers bad percent-encoding with 400 url_invalid', async () => {
    const c = await connection();
    const response = await c.send('GET', '/scans/cve/mitigation/%ZZ', auth());
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ ...errorObject('url_invalid'), type: 'invalid_request_error' });
    c.end();
  });

  it('answers an over-long or non-UUID id with 404 of the resource, and an absurdly long one with 404 too', async () => {
    const c = await connection();
    for (const id of ['x'.repeat(101), 'x'.repeat(1000), 'not-a-uuid']) {
      const response = await c.send('GET', `/scans/cve/scheduled/${id}`, auth());
      expect(response.status, id.slice(0, 20)).toBe(404);
      expect(response.body).toEqual({ ...errorObject('schedule_not_found'), type: 'not_found_error' });
    }
    const huge = await c.send('GET', `/scans/cve/${'y'.repeat(5000)}`, auth());
    expect(huge.status, JSON.stringify(huge.body)).toBe(404);
    expect(huge.body).toEqual({ ...errorObject('scan_not_found'), type: 'not_found_error' });
    c.end();
  });

  it('answers oversized headers with 431 and the error object', async () => {
    const c = await connection();
    const response = await c.send('GET', '/scans/cve/scheduled', { ...auth(), 'x-padding': 'p'.repeat(64 * 1024) });
    expect(response.status).toBe(431);
    expect(response.body).toEqual({ ...errorObject('headers_too_large'), type: 'invalid_request_error' });
    c.end();
  });

  it('answers an unsupported method on a known path with 405 and Allow', async () => {
    const c = await connection();
    const patch = await c.send('PATCH', '/scans/cve/scheduled', auth());
    expect(patch.status).toBe(405);
    expect(patch.headers.allow).toBe('GET, HEAD, POST');
    expect(patch.body).toEqual({ ...errorObject('method_not_allowed'), type: 'invalid_request_error' });
    const del = await c.send('DELETE', `/scans/cve/${crypto.randomUUID()}`, auth());
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD');
    const post = await c.send('POST', `/scans/cve/scheduled/${crypto.randomUUID()}`, auth());
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD, PUT, DELETE');
    // An unknown path stays 404.
    expect((await c.send('PATCH', '/nowhere', auth())).status).toBe(404);
    c.end();
  });

  it('sends WWW-Authenticate: Bearer with every 401', async () => {
    const c = await connection();
    const missing = await c.send('GET', '/scans/cve/scheduled');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const invalid = await c.send('GET', '/scans/cve/scheduled', { authorization: 'Bearer not.a.jwt' });
    expect(invalid.status).toBe(401);
    expect(invalid.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    c.end();
  });
});

describe('a keep-alive connection survives a 4xx', () => {
  it('serves the next request on the same socket after 400, 401, 403, 404, 405, 413, 415 and 422', async () => {
    const c = await connection();
    const json = { 'content-type': 'application/json' };
    const viewOnly = await h.jwt({ scope: 'cve:view' });
    const refusals: [string, string, Record<string, string>, string | undefined, number][] = [
      ['POST', '/scans/cve/scheduled', { ...auth(), ...json }, '{"description": ', 400],
      ['POST', '/scans/cve/scheduled', json, '{"unread": "body of a request refused before it was read"}', 401],
      ['POST', '/scans/cve/scheduled', { authorization: `Bearer ${viewOnly}`, ...json }, '{}', 403],
      ['GET', `/scans/cve/scheduled/${crypto.randomUUID()}`, auth(), undefined, 404],
      ['PATCH', '/scans/cve/scheduled', { ...auth(), ...json }, '{}', 405],
      ['POST', '/scans/cve/mac-address/cves', { ...auth(), ...json }, JSON.stringify({ mac_addresses: ['x'.repeat(1024 * 1024)] }), 413],
      ['POST', '/scans/cve/scheduled', { ...auth(), 'content-type': 'text/plain' }, 'hello', 415],
      ['POST', '/scans/cve/mac-address/cves', { ...auth(), ...json }, '{"mac_addresses": ["zz"]}', 422],
      ['GET', '/scans/cve/mitigation/%ZZ', auth(), undefined, 400],
    ];
    for (const [method, path, headers, body, status] of refusals) {
      const refused = await c.send(method, path, headers, body);
      expect(refused.status, `${method} ${path}`).toBe(status);
      expect(refused.headers.connection, `${method} ${path}`).not.toBe('close');
      const next = await c.send('GET', '/scans/cve/scheduled', auth());
      expect(next.status, `after ${status}`).toBe(200);
      expect(next.body).toEqual([]);
    }
    expect(c.closed).toBe(false);
    c.end();
  });
});

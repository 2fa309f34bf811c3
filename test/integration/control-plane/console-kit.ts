/**
 * The console's sign-in, as a browser does it: a control plane on this suite's loopback address
 * (127.0.80.x), operators stored with real scrypt hashes, and a client that keeps the session
 * cookie and sends the CSRF token on writes.
 */
import { newOperatorSchema, operatorRow } from '../../../src/control-plane/console/operators.js';
import type { Clock } from '../../../src/shared/clock.js';
import type { OperatorRole } from '../../../src/control-plane/store/types.js';
import { startHarness, type Harness } from './harness.js';

export const CONSOLE_HOST = '127.0.80.1';
export const PASSWORD = 'correct horse battery staple';

/** A clock the test moves by hand: nothing sleeps. */
export function fakeClock(start = Date.parse('2026-12-05T12:00:00.000Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

export function startConsole(options: { clock?: Clock; config?: Record<string, unknown> } = {}): Promise<Harness> {
  return startHarness({ clock: options.clock, config: { listen: { host: CONSOLE_HOST, port: 0 }, ...options.config } });
}

export async function addOperator(h: Harness, org: string, email: string, role: OperatorRole, password = PASSWORD) {
  // Created before any fake clock's start, so no session of a test predates it.
  const row = await operatorRow(org, newOperatorSchema.parse({ email, name: email.split('@')[0] ?? email, role, password }), '2026-01-01T00:00:00.000Z');
  await h.store.operators.create(row);
  return row;
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export class Browser {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(private readonly url: string) {}

  async login(email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<Answer> {
    const answer = await this.send('POST', '/console/session', { body: { email, password }, headers });
    const setCookie = answer.headers.get('set-cookie');
    if (answer.status === 200 && setCookie !== null) {
      this.cookie = setCookie.split(';')[0];
      this.csrf = (answer.body as { csrf_token: string }).csrf_token;
    }
    return answer;
  }

  /** A request with the session cookie; writes carry the CSRF token unless `csrf` says otherwise. */
  async send(
    method: string,
    path: string,
    options: { body?: unknown; csrf?: string | null; origin?: string; bearer?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie !== undefined) headers.cookie = this.cookie;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null && csrf !== undefined && method !== 'GET') headers['x-csrf-token'] = csrf;
    if (options.origin !== undefined) headers.origin = options.origin;
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    const response = await fetch(`${this.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
  }
}

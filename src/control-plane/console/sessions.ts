/**
 * Console sessions: a random cookie (only its sha256 is stored) with an idle and an absolute end,
 * a CSRF token per session that every cookie-authenticated write must echo in `X-CSRF-Token`, and
 * an Origin check on those writes. SameSite=Strict already keeps other sites' requests from
 * carrying the cookie; the CSRF token covers browsers and paths where it does not.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { fastifyCookie } from '@fastify/cookie';
import type { Clock } from '../../shared/clock.js';
import type { AuthRequest, Principal, SessionAuthenticate } from '../api/auth.js';
import { ApiError } from '../errors.js';
import type { ConsoleSessionRow, ControlPlaneStore, OperatorRow } from '../store/types.js';
import { roleScopes } from './operators.js';

export const SESSION_COOKIE = 'cve_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionSettings {
  session_idle_minutes: number;
  session_max_hours: number;
}

// A request within this long of the last recorded one does not write last_seen_at again.
const TOUCH_EVERY_MS = 60_000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface StartedSession {
  /** The cookie's value: shown to the browser once, never stored. */
  cookie: string;
  session: ConsoleSessionRow;
  expiresAt: string;
}

export class ConsoleSessions {
  constructor(
    private readonly deps: {
      store: Pick<ControlPlaneStore, 'sessions' | 'operators'>;
      clock: Clock;
      settings: SessionSettings;
      /** The configured public URL: its origin is the one writes may come from, and https makes the cookie Secure. */
      publicUrl: string | undefined;
    },
  ) {}

  get maxAgeSeconds(): number {
    return this.deps.settings.session_max_hours * 3600;
  }

  /** When the session ends if no request comes first: its idle end, capped by its absolute end. */
  expiresAt(session: Pick<ConsoleSessionRow, 'last_seen_at' | 'expires_at'>): string {
    const idleEnd = Date.parse(session.last_seen_at) + this.deps.settings.session_idle_minutes * 60_000;
    return new Date(Math.min(idleEnd, Date.parse(session.expires_at))).toISOString();
  }

  async start(operator: OperatorRow): Promise<StartedSession> {
    const now = this.deps.clock.now();
    const cookie = randomBytes(32).toString('base64url');
    const session: ConsoleSessionRow = {
      token_hash: sha256(cookie),
      operator_id: operator.id,
      csrf_token: randomBytes(32).toString('base64url'),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.maxAgeSeconds * 1000).toISOString(),
    };
    await this.deps.store.sessions.prune(session.created_at);
    await this.deps.store.sessions.create(session);
    return { cookie, session, expiresAt: this.expiresAt(session) };
  }

  async end(tokenHash: string): Promise<void> {
    await this.deps.store.sessions.delete(tokenHash);
  }

  /** The session and operator of a cookie value, or undefined when it names no live session. */
  async resolve(cookie: string): Promise<{ session: ConsoleSessionRow; operator: OperatorRow } | undefined> {
    const tokenHash = sha256(cookie);
    const session = await this.deps.store.sessions.get(tokenHash);
    if (session === undefined) return undefined;
    const now = this.deps.clock.now();
    const operator = await this.deps.store.operators.get(session.operator_id);
    if (operator === undefined || now.getTime() >= Date.parse(this.expiresAt(session)) || session.created_at < operator.sessions_valid_after) {
      await this.deps.store.sessions.delete(tokenHash);
      return undefined;
    }
    if (now.getTime() - Date.parse(session.last_seen_at) >= TOUCH_EVERY_MS) {
      session.last_seen_at = now.toISOString();
      await this.deps.store.sessions.touch(tokenHash, session.last_seen_at);
    }
    return { session, operator };
  }

  principalOf(operator: OperatorRow, session: ConsoleSessionRow): Principal {
    return {
      sub: operator.email,
      org: operator.org_id,
      scopes: new Set(roleScopes[operator.role]),
      kind: 'session',
      operator: { id: operator.id, email: operator.email, name: operator.name, role: operator.role },
      session: { tokenHash: session.token_hash, csrfToken: session.csrf_token, expiresAt: this.expiresAt(session) },
    };
  }

  /** The origin a browser's writes must come from: the public URL's, else the request's own. */
  originOf(request: AuthRequest): string {
    if (this.deps.publicUrl !== undefined) return new URL(this.deps.publicUrl).origin;
    return `${request.protocol}://${String(request.headers.host ?? '')}`;
  }

  /** Cookies are Secure whenever the browser reaches us over https. */
  secure(request: AuthRequest): boolean {
    return request.protocol === 'https' || this.deps.publicUrl?.startsWith('https:') === true;
  }

  /** The cookie's attributes: HttpOnly, SameSite=Strict, Path=/, and Secure over https. */
  cookieOptions(request: AuthRequest, maxAgeSeconds: number) {
    return { httpOnly: true, sameSite: 'strict' as const, path: '/', secure: this.secure(request), maxAge: maxAgeSeconds };
  }

  /** `deps.authenticate`'s cookie half: resolves the session and enforces CSRF and Origin on writes. */
  readonly authenticate: SessionAuthenticate = async (request) => {
    const header = request.headers.cookie;
    if (header === undefined) return undefined;
    const cookie = fastifyCookie.parse(header)[SESSION_COOKIE];
    if (cookie === undefined || cookie === '') return undefined;
    const found = await this.resolve(cookie);
    if (found === undefined) return undefined;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== this.originOf(request)) throw new ApiError('csrf_failed', `Origin ${origin} is not this console's origin.`);
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameText(sent, found.session.csrf_token))
        throw new ApiError('csrf_failed', 'A write with the session cookie needs the X-CSRF-Token header of that session.');
    }
    return this.principalOf(found.operator, found.session);
  };
}

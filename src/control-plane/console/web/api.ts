/**
 * The console's fetch client: JSON in and out, the session's CSRF token on every write, and the
 * API's error object `{type, code, message, doc_url}` thrown as an ApiFailure.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { stopLive } from './live.js';

export type Role = 'viewer' | 'operator' | 'admin';
export type Scope = 'cve:view' | 'cve:create' | 'cve:update' | 'cve:delete' | 'cp:admin';

export interface Operator {
  id: string;
  org_id: string;
  email: string;
  name: string;
  role: Role;
}

export interface Session {
  operator: Operator;
  csrf_token: string;
  expires_at: string;
}

/** The spec's roles -> scopes (the server enforces them; the console only hides what would be refused). */
const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  viewer: ['cve:view'],
  operator: ['cve:view', 'cve:create', 'cve:update', 'cve:delete'],
  admin: ['cve:view', 'cve:create', 'cve:update', 'cve:delete', 'cp:admin'],
};

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

let current: Session | null = null;
const listeners = new Set<(session: Session | null) => void>();

export function setSession(session: Session | null): void {
  current = session;
  for (const listener of listeners) listener(session);
}

export const session = (): Session | null => current;

export function useSession(): Session | null {
  const [value, setValue] = useState(current);
  useEffect(() => {
    listeners.add(setValue);
    return () => void listeners.delete(setValue);
  }, []);
  return value;
}

export function can(scope: Scope, who: Session | null = current): boolean {
  return who !== null && (ROLE_SCOPES[who.operator.role] ?? []).includes(scope);
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && current) headers['x-csrf-token'] = current.csrf_token;
  const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const parsed = await parse(response);
  if (!response.ok) {
    const error = (parsed ?? {}) as { code?: string; message?: string };
    const failure = new ApiFailure(response.status, error.code ?? 'http_error', error.message ?? `HTTP ${response.status}`);
    // A session that ended (expired, signed out elsewhere): back to the sign-in page.
    if (response.status === 401 && !path.startsWith('/console/session')) {
      setSession(null);
      stopLive();
      // The page asked for stays in the address: signing in again returns to it.
    }
    throw failure;
  }
  return parsed as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const del = <T = void>(path: string) => request<T>('DELETE', path);

export interface Loaded<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  reload: () => void;
  /** Reload once within a second however often it is asked (live bursts: 200 scans finding at once). */
  reloadSoon: () => void;
  /** Replace the data in place (a live message changed it). */
  set: (update: (data: T | undefined) => T | undefined) => void;
}

/** GET `path` (null: nothing yet) and keep it; `reload()` fetches it again. */
export function useGet<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiFailure; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error: toFailure(error), loading: false }),
    );
    return () => void (live = false);
  }, [path, tick]);
  const pending = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(pending.current), []);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: () => setTick((t) => t + 1),
    reloadSoon: () => {
      if (pending.current !== undefined) return;
      pending.current = setTimeout(() => {
        pending.current = undefined;
        setTick((t) => t + 1);
      }, 1000);
    },
    set: (update) => setState((s) => ({ ...s, data: update(s.data) })),
  };
}

export function toFailure(error: unknown): ApiFailure {
  if (error instanceof ApiFailure) return error;
  return new ApiFailure(0, 'network_error', error instanceof Error ? error.message : String(error));
}

/**
 * One WebSocket per page load to GET /console/live: pages subscribe by message type. A dropped
 * socket reconnects with backoff (1 s doubling to 15 s) and resends the last cursor, so the server
 * replays what was missed; `resync` (the gap is older than the server's ring) tells pages to refetch.
 */
import { useEffect } from 'preact/hooks';

export interface LiveScan {
  type: 'scan';
  cursor: number;
  scan_id: string;
  scan_schedule_id: string | null;
  status: string;
  progress: number;
  at: string;
}
export interface LiveEvent {
  type: 'event';
  cursor: number;
  scan_id: string;
  time: string;
  message: string;
}
export interface LiveFinding {
  type: 'finding';
  cursor: number;
  scan_id: string;
  site_id: string;
  mac_address: string | null;
  ip_address: string | null;
  cve_id: string;
  score: number;
  severity: string;
}
export interface LiveSite {
  type: 'site';
  cursor: number;
  site_id: string;
  online: boolean;
  at: string;
}
export interface LiveHello {
  type: 'hello';
  cursor: number;
  org_id: string;
}
export interface LiveResync {
  type: 'resync';
  cursor: number;
}
export type LiveMessage = LiveScan | LiveEvent | LiveFinding | LiveSite | LiveHello | LiveResync;
type Of<K extends LiveMessage['type']> = Extract<LiveMessage, { type: K }>;

export type LiveState = 'connecting' | 'open' | 'closed';

const handlers = new Map<string, Set<(message: LiveMessage) => void>>();
const stateListeners = new Set<(state: LiveState) => void>();
let socket: WebSocket | null = null;
let cursor: number | undefined;
let backoffMs = 1000;
let timer: ReturnType<typeof setTimeout> | undefined;
let wanted = false;
let state: LiveState = 'closed';

function setState(next: LiveState): void {
  state = next;
  for (const listener of stateListeners) listener(next);
}

function dispatch(message: LiveMessage): void {
  if (typeof message.cursor === 'number') cursor = message.cursor;
  for (const handler of handlers.get(message.type) ?? []) handler(message);
}

function connect(): void {
  if (!wanted || socket) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = cursor === undefined ? '' : `?since=${cursor}`;
  setState('connecting');
  const ws = new WebSocket(`${scheme}://${location.host}/console/live${query}`);
  socket = ws;
  ws.onopen = () => {
    backoffMs = 1000;
    setState('open');
  };
  ws.onmessage = (event) => {
    try {
      dispatch(JSON.parse(String(event.data)) as LiveMessage);
    } catch {
      // A frame that is not JSON is not ours to act on.
    }
  };
  ws.onclose = () => {
    socket = null;
    setState('closed');
    if (!wanted) return;
    timer = setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 15_000);
  };
}

/** Open the page's socket (after sign-in). */
export function startLive(): void {
  wanted = true;
  connect();
}

/** Close it (sign-out). */
export function stopLive(): void {
  wanted = false;
  clearTimeout(timer);
  socket?.close();
  socket = null;
  cursor = undefined;
}

export function subscribe<K extends LiveMessage['type']>(type: K, handler: (message: Of<K>) => void): () => void {
  const set = handlers.get(type) ?? new Set();
  handlers.set(type, set);
  const wrapped = handler as (message: LiveMessage) => void;
  set.add(wrapped);
  return () => void set.delete(wrapped);
}

export const liveState = (): LiveState => state;

export function onLiveState(listener: (state: LiveState) => void): () => void {
  stateListeners.add(listener);
  return () => void stateListeners.delete(listener);
}

/** Subscribe while the component is mounted; `deps` re-subscribe when they change. */
export function useLive<K extends LiveMessage['type']>(type: K, handler: (message: Of<K>) => void, deps: unknown[] = []): void {
  useEffect(() => subscribe(type, handler), deps);
}

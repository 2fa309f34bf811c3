import { constants as osConstants } from 'node:os';
import { AgentError, type AgentErrorCode } from '../errors.js';

/** Where a session goes: named in every error so a log line says which router and which port. */
export interface RouterTarget {
  host: string;
  port: number;
  transport: 'api' | 'api-ssl' | 'ssh';
}

export const describeTarget = (target: RouterTarget): string => `router ${target.host}:${target.port} (${target.transport})`;

export function routerError(code: AgentErrorCode, target: RouterTarget, reason: string, cause?: unknown): AgentError {
  return new AgentError(code, `${describeTarget(target)}: ${reason}`, { cause, details: [reason] });
}

export const isRouterError = (error: unknown): error is AgentError => error instanceof AgentError && error.code.startsWith('AGENT_ERR_ROUTER_');

export const timeoutError = (target: RouterTarget, timeoutMs: number, what: string): AgentError =>
  routerError('AGENT_ERR_ROUTER_TIMEOUT', target, `timeout after ${Math.round(timeoutMs / 100) / 10} s (${what})`);

/** Node reports some socket errors as a bare negative errno; turn it back into its name. */
function errnoName(errno: unknown): string | undefined {
  if (typeof errno !== 'number') return undefined;
  const found = Object.entries(osConstants.errno).find(([, value]) => value === Math.abs(errno));
  return found?.[0];
}

const unreachableCodes = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ENONET']);
const closedCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED']);

/** The code of a socket or TLS error, wherever the library put it. */
export function socketErrorCode(error: unknown): string | undefined {
  const err = error as { code?: unknown; errno?: unknown; cause?: { code?: unknown; errno?: unknown } } | undefined;
  for (const candidate of [err?.code, err?.cause?.code, err?.errno, err?.cause?.errno]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
    const named = errnoName(candidate);
    if (named !== undefined) return named;
  }
  return undefined;
}

/** Maps a transport-level failure (refused, reset, TLS, DNS) to the catalog. */
export function fromSocketError(error: unknown, target: RouterTarget, timeoutMs: number): AgentError {
  if (error instanceof AgentError) return error;
  const code = socketErrorCode(error);
  const message = error instanceof Error && error.message !== '' ? error.message : (code ?? String(error));
  // The patched receiver destroys the socket with this when the bytes are not the API.
  if (code === 'PROTOCOLERROR') return routerError('AGENT_ERR_ROUTER_PROTOCOL', target, message.replace(/^Protocol error: /, 'protocol error: '), error);
  if (code === 'ECONNREFUSED') return routerError('AGENT_ERR_ROUTER_UNREACHABLE', target, `connection refused on ${target.port}`, error);
  if (code === 'ETIMEDOUT') return timeoutError(target, timeoutMs, 'connect');
  if (code !== undefined && unreachableCodes.has(code)) return routerError('AGENT_ERR_ROUTER_UNREACHABLE', target, `${code}: ${message}`, error);
  if (code !== undefined && closedCodes.has(code)) return routerError('AGENT_ERR_ROUTER_CLOSED', target, `connection reset by the router (${code})`, error);
  if (
    code !== undefined &&
    (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'EPROTO')
  ) {
    return routerError('AGENT_ERR_ROUTER_TLS', target, `TLS handshake failed: ${message}`, error);
  }
  return routerError('AGENT_ERR_ROUTER_UNREACHABLE', target, message, error);
}

/** The abort reason as thrown by `signal.throwIfAborted()`, so callers tell stop from failure. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

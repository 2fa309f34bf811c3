import type net from 'node:net';
import tls from 'node:tls';
import type { GuardedNet } from '../guarded-net.js';
import type { ServiceFinding } from '../service.js';

export interface ProbeLimits {
  /** Bytes read from one connection at most; a flooding peer is cut off here. */
  maxBytes: number;
  /** Wall time one probe step (one connection) may take. */
  stepTimeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * A socket read with caps: whatever the peer does (says nothing, floods, half-closes), every
 * read resolves by the step deadline with at most maxBytes, and close() always frees the fd.
 */
export class BoundedSocket {
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #waiter: (() => void) | null = null;
  readonly #deadline: number;

  constructor(
    readonly socket: net.Socket,
    readonly limits: ProbeLimits,
    private readonly signal: AbortSignal,
  ) {
    this.#deadline = performance.now() + limits.stepTimeoutMs;
    socket.on('data', (chunk: Buffer) => {
      const room = limits.maxBytes - this.#length;
      if (room > 0) {
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.#chunks.push(kept);
        this.#length += kept.length;
      }
      if (this.#length >= limits.maxBytes) {
        this.#ended = true;
        socket.destroy();
      }
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
    signal.addEventListener('abort', this.close, { once: true });
  }

  get received(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  get truncated(): boolean {
    return this.#length >= this.limits.maxBytes;
  }

  /** Resolves with all bytes so far once `done` holds, the peer ends, the cap or the wait is reached. */
  async read(done: (received: Buffer) => boolean, waitMs = this.limits.stepTimeoutMs): Promise<Buffer> {
    const until = Math.min(this.#deadline, performance.now() + waitMs);
    while (!this.#ended && !this.signal.aborted && !done(this.received)) {
      const left = until - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
    return this.received;
  }

  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  }

  readonly close = (): void => {
    this.signal.removeEventListener('abort', this.close);
    this.socket.destroy();
    this.#ended = true;
    this.#wake();
  };

  #wake(): void {
    this.#waiter?.();
  }
}

export interface TlsFacts {
  subject?: string;
  issuer?: string;
  validTo?: string;
  validFrom?: string;
  protocol?: string;
}

export interface ProbeContext {
  readonly address: string;
  readonly port: number;
  readonly signal: AbortSignal;
  readonly limits: ProbeLimits;
  /** A fresh guarded TCP connection, or null when the port no longer answers. */
  open(): Promise<BoundedSocket | null>;
  /** A fresh guarded TLS connection (certificate not verified: we only read it), or null. */
  openTls(): Promise<{ socket: BoundedSocket; facts: TlsFacts } | null>;
}

export type TcpProbe = (context: ProbeContext) => Promise<ServiceFinding | null>;

function certificateName(fields: Record<string, string | string[] | undefined> | undefined): string | undefined {
  if (!fields) return undefined;
  const parts = Object.entries(fields).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export function createProbeContext(guardedNet: GuardedNet, address: string, port: number, limits: ProbeLimits, signal: AbortSignal): ProbeContext {
  const open = async (): Promise<BoundedSocket | null> => {
    const outcome = await guardedNet.connectTcp(address, port, { timeoutMs: limits.connectTimeoutMs, signal, keepOpen: true });
    return outcome.state === 'open' ? new BoundedSocket(outcome.socket, limits, signal) : null;
  };
  const openTls = async () => {
    const outcome = await guardedNet.connectTcp(address, port, { timeoutMs: limits.connectTimeoutMs, signal, keepOpen: true });
    if (outcome.state !== 'open') return null;
    const raw = outcome.socket;
    // Garbage instead of TLS fails the handshake at once; a peer that never finishes it (or
    // trickles handshake bytes) is cut off by the step cap.
    return new Promise<{ socket: BoundedSocket; facts: TlsFacts } | null>((resolve) => {
      const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined });
      const timer = setTimeout(() => fail(), limits.stepTimeoutMs);
      const onAbort = () => fail();
      signal.addEventListener('abort', onAbort, { once: true });
      function fail() {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        secure.destroy();
        raw.destroy();
        resolve(null);
      }
      secure.once('error', fail);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        secure.removeListener('error', fail);
        const certificate = secure.getPeerCertificate();
        const facts: TlsFacts = {
          subject: certificateName(certificate.subject as unknown as Record<string, string>),
          issuer: certificateName(certificate.issuer as unknown as Record<string, string>),
          validFrom: certificate.valid_from ? new Date(certificate.valid_from).toISOString() : undefined,
          validTo: certificate.valid_to ? new Date(certificate.valid_to).toISOString() : undefined,
          protocol: secure.getProtocol() ?? undefined,
        };
        resolve({ socket: new BoundedSocket(secure, limits, signal), facts });
      });
    });
  };
  return { address, port, signal, limits, open, openTls };
}

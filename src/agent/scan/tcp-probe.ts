import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/**
 * The port scan's connect attempt, made as cheap as a connect can be in Node: a callback (no
 * promise), one shared sweep for every timeout (no timer per socket), and, where Node still
 * exposes it, the bare libuv TCP handle instead of a net.Socket. A refused connect on a
 * net.Socket builds a Duplex stream, then an Error whose stack the stream's destroy() formats:
 * over a /24 x 124 ports that was most of the scan's own CPU (see scripts/bench-scan.ts).
 */

export type ProbeState = 'open' | 'closed' | 'silent';
export type ProbeDone = (state: ProbeState, rttMs: number) => void;

/** A timeout checked this late means the agent's event loop stalled, not that the peer was slow. */
export const STALL_MS = 25;
/** How many times a stall may restart an attempt's timeout (a wedged loop must still end the scan). */
export const MAX_STALL_EXTENSIONS = 3;
/** The sweep's period; the shortest connect timeout is 100 ms, so a verdict is at most this late. */
const SWEEP_MS = 10;

const refusedCodes = new Set(['ECONNREFUSED', 'ECONNRESET']);

interface TcpHandle {
  connect(req: ConnectRequest, address: string, port: number): number;
  close(): void;
}
interface ConnectRequest {
  oncomplete: ((this: ConnectRequest, status: number) => void) | null;
  attempt: Attempt | null;
}
interface TcpBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectRequest;
  constants: { SOCKET: number };
}

/** The raw handle Node's own net.Socket wraps; null where the runtime no longer hands it out. */
function loadTcpBinding(): TcpBinding | null {
  try {
    const binding = (process as unknown as { binding(name: string): Partial<TcpBinding> }).binding('tcp_wrap');
    const { TCP, TCPConnectWrap, constants } = binding;
    if (typeof TCP !== 'function' || typeof TCPConnectWrap !== 'function' || typeof constants?.SOCKET !== 'number') return null;
    return { TCP, TCPConnectWrap, constants };
  } catch {
    return null;
  }
}

const rawBinding = loadTcpBinding();

/** One connect in flight; exactly one of handle (raw) or socket is set. */
interface Attempt {
  prober: TcpProber;
  started: number;
  dueAt: number;
  timeoutMs: number;
  extensions: number;
  handle: TcpHandle | null;
  request: ConnectRequest | null;
  socket: net.Socket | null;
  done: ProbeDone;
}

/** Shared by every raw connect (libuv calls it with the request as `this`): no closure per attempt. */
function onRawComplete(this: ConnectRequest, status: number): void {
  const attempt = this.attempt;
  if (attempt) attempt.prober.settle(attempt, status === 0 ? null : errorName(status));
}

export interface TcpProberOptions {
  /** Use net.Socket even where the raw handle is available (tests cover both paths). */
  socketsOnly?: boolean;
}

export class TcpProber {
  readonly #pending = new Set<Attempt>();
  readonly #binding: TcpBinding | null;
  #sweep: NodeJS.Timeout | undefined;
  #nextSweepAt = 0;

  constructor(options: TcpProberOptions = {}) {
    this.#binding = options.socketsOnly ? null : rawBinding;
  }

  /** Whether attempts go through the bare libuv handle. */
  get raw(): boolean {
    return this.#binding !== null;
  }

  /** Attempts in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Connects and closes at once; `done` is called exactly once, never synchronously. */
  probe(address: string, port: number, timeoutMs: number, done: ProbeDone): void {
    const started = performance.now();
    const attempt: Attempt = { prober: this, started, dueAt: started + timeoutMs, timeoutMs, extensions: 0, handle: null, request: null, socket: null, done };
    this.#pending.add(attempt);
    this.#arm();
    if (this.#binding) {
      const handle = new this.#binding.TCP(this.#binding.constants.SOCKET);
      const request = new this.#binding.TCPConnectWrap();
      request.oncomplete = onRawComplete;
      request.attempt = attempt;
      attempt.handle = handle;
      attempt.request = request;
      const status = handle.connect(request, address, port);
      // An error at once (no fd left, say) is reported on the next turn, as libuv's are.
      if (status !== 0) setImmediate(() => this.settle(attempt, errorName(status)));
    } else {
      const socket = new net.Socket();
      attempt.socket = socket;
      socket.once('connect', () => this.settle(attempt, null));
      socket.once('error', (error: NodeJS.ErrnoException) => this.settle(attempt, error.code ?? 'EUNKNOWN'));
      socket.connect({ host: address, port, family: 4, autoSelectFamily: false });
    }
  }

  /** The verdict: `code` null is a connect, else the error's code; a timeout passes 'ETIMEDOUT'. */
  settle(attempt: Attempt, code: string | null): void {
    if (!this.#pending.delete(attempt)) return;
    this.#release(attempt);
    const rttMs = performance.now() - attempt.started;
    if (code === null) attempt.done('open', rttMs);
    else if (refusedCodes.has(code)) attempt.done('closed', rttMs);
    else attempt.done('silent', rttMs);
  }

  /**
   * Closes the socket and cuts every link from Node's handle objects back to ours: a closed
   * handle's wrapper lives until a full GC, and whatever it still pointed to (the attempt, its
   * callback, the port scan's promise) would live as long, which was tens of MB over a /22.
   */
  #release(attempt: Attempt): void {
    if (attempt.request) {
      attempt.request.oncomplete = null;
      attempt.request.attempt = null;
    }
    attempt.handle?.close();
    attempt.socket?.destroy();
    attempt.handle = null;
    attempt.request = null;
    attempt.socket = null;
  }

  /** Ends every attempt in flight as silent (the scan was stopped; its caller checks the signal). */
  cancelAll(): void {
    for (const attempt of [...this.#pending]) this.settle(attempt, 'ECANCELED');
    this.#disarm();
  }

  #arm(): void {
    if (this.#sweep) return;
    this.#nextSweepAt = performance.now() + SWEEP_MS;
    this.#sweep = setInterval(() => this.#tick(), SWEEP_MS);
  }

  #disarm(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #tick(): void {
    if (this.#pending.size === 0) {
      this.#disarm();
      return;
    }
    const now = performance.now();
    // The agent's own thread was held up (a busy box, a long synchronous write): the time it
    // lost is not the peer's fault, so an attempt that fell due meanwhile gets its whole timeout again.
    const stalled = now - this.#nextSweepAt > STALL_MS;
    this.#nextSweepAt = now + SWEEP_MS;
    const expired: Attempt[] = [];
    for (const attempt of this.#pending) {
      if (attempt.dueAt > now) continue;
      if (stalled && attempt.extensions < MAX_STALL_EXTENSIONS) {
        attempt.extensions += 1;
        attempt.dueAt = now + attempt.timeoutMs;
      } else expired.push(attempt);
    }
    if (expired.length === 0) return;
    // Timers run before I/O in each turn of the loop, so an answer that arrived while the loop
    // was busy is still waiting: let it be read first. An attempt that connected is open.
    setImmediate(() => {
      for (const attempt of expired) this.settle(attempt, 'ETIMEDOUT');
    });
  }
}

function errorName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${status}`;
  }
}

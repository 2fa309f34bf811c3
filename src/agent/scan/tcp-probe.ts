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
  connect(req: object, address: string, port: number): number;
  close(): void;
}
interface TcpBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => { oncomplete?: (status: number) => void };
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

interface Attempt {
  started: number;
  dueAt: number;
  timeoutMs: number;
  extensions: number;
  close: () => void;
  done: ProbeDone;
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
    const attempt: Attempt = { started, dueAt: started + timeoutMs, timeoutMs, extensions: 0, close: () => undefined, done };
    const onStatus = (code: string | null) => {
      if (!this.#pending.delete(attempt)) return;
      attempt.close();
      const rttMs = performance.now() - started;
      if (code === null) done('open', rttMs);
      else if (refusedCodes.has(code)) done('closed', rttMs);
      else done('silent', rttMs);
    };
    this.#pending.add(attempt);
    this.#arm();
    if (this.#binding) {
      const handle = new this.#binding.TCP(this.#binding.constants.SOCKET);
      const request = new this.#binding.TCPConnectWrap();
      request.oncomplete = (status) => onStatus(status === 0 ? null : errorName(status));
      attempt.close = () => handle.close();
      const status = handle.connect(request, address, port);
      // An error at once (no fd left, say) is reported on the next turn, as libuv's are.
      if (status !== 0) setImmediate(() => onStatus(errorName(status)));
    } else {
      const socket = new net.Socket();
      attempt.close = () => socket.destroy();
      socket.once('connect', () => onStatus(null));
      socket.once('error', (error: NodeJS.ErrnoException) => onStatus(error.code ?? 'EUNKNOWN'));
      socket.connect({ host: address, port, family: 4, autoSelectFamily: false });
    }
  }

  /** Ends every attempt in flight as silent (the scan was stopped; its caller checks the signal). */
  cancelAll(): void {
    for (const attempt of [...this.#pending]) {
      this.#pending.delete(attempt);
      attempt.close();
      attempt.done('silent', performance.now() - attempt.started);
    }
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
      for (const attempt of expired) {
        if (!this.#pending.delete(attempt)) continue;
        attempt.close();
        attempt.done('silent', performance.now() - attempt.started);
      }
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

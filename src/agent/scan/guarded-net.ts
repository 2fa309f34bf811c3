import dgram from 'node:dgram';
import net from 'node:net';
import type { ScopeGuard } from './scope-guard.js';
import { MAX_STALL_EXTENSIONS, STALL_MS, TcpProber, type ProbeDone, type TcpProberOptions } from './tcp-probe.js';

export type TcpOutcome =
  | { state: 'open'; socket: net.Socket; rttMs: number }
  | { state: 'closed'; rttMs: number }
  /** No answer before the timeout, or the network said the host is unreachable. */
  | { state: 'silent'; reason: string };

export interface ConnectOptions {
  timeoutMs: number;
  /** The scan's own signal costs nothing per connect; any other is listened to per connect. */
  signal: AbortSignal;
  /** Keep the socket for a probe; the port scan closes it at once. */
  keepOpen?: boolean;
}

export interface UdpExchangeOptions {
  timeoutMs: number;
  signal: AbortSignal;
  maxBytes: number;
}

const refusedCodes = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * Sockets that can only be opened through the scope guard. The engine and every probe get one
 * of these and nothing else that opens sockets. One listener on the scan's signal destroys every
 * socket still connecting, so a connect costs no abort listener of its own (a /22 makes 130k).
 */
export class GuardedNet {
  readonly #connecting = new Set<() => void>();
  readonly #prober: TcpProber;

  constructor(
    readonly guard: ScopeGuard,
    private readonly scanSignal: AbortSignal,
    proberOptions: TcpProberOptions = {},
  ) {
    this.#prober = new TcpProber(proberOptions);
    scanSignal.addEventListener(
      'abort',
      () => {
        for (const cancel of [...this.#connecting]) cancel();
        this.#prober.cancelAll();
      },
      { once: true },
    );
  }

  /** Connects in flight right now (for tests and the fd budget). */
  get connecting(): number {
    return this.#connecting.size + this.#prober.pending;
  }

  /**
   * The port scan's connect: open, closed or silent, through a callback (no promise, no timer,
   * no abort listener of its own). Throws when the guard refuses the address or the scan was
   * stopped; once stopped, attempts in flight end as silent and the caller checks the signal.
   */
  probeTcp(address: string, port: number, timeoutMs: number, done: ProbeDone): void {
    this.guard.check(address);
    this.scanSignal.throwIfAborted();
    this.#prober.probe(address, port, timeoutMs, done);
  }

  /** Rejects (never throws) when the guard refuses the address or the scan was stopped. */
  connectTcp(address: string, port: number, options: ConnectOptions): Promise<TcpOutcome> {
    const extra = options.signal === this.scanSignal ? undefined : options.signal;
    try {
      this.guard.check(address);
      this.scanSignal.throwIfAborted();
      extra?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = new net.Socket();
      let settled = false;
      let dueAt = started + options.timeoutMs;
      let extensions = 0;
      const finish = (outcome: TcpOutcome | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#connecting.delete(onAbort);
        extra?.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        socket.removeListener('connect', onConnect);
        if (outcome instanceof Error) {
          socket.destroy();
          reject(outcome);
        } else {
          if (outcome.state !== 'open' || !options.keepOpen) socket.destroy();
          resolve(outcome);
        }
      };
      const onAbort = () => {
        const reason: unknown = this.scanSignal.aborted ? this.scanSignal.reason : extra?.reason;
        finish(reason instanceof Error ? reason : new Error('aborted'));
      };
      const onConnect = () => finish({ state: 'open', socket, rttMs: performance.now() - started });
      const onError = (error: NodeJS.ErrnoException) => {
        if (refusedCodes.has(error.code ?? '')) finish({ state: 'closed', rttMs: performance.now() - started });
        else finish({ state: 'silent', reason: error.code ?? error.message });
      };
      const onTimeout = () => {
        const lostMs = performance.now() - dueAt;
        if (lostMs > STALL_MS && extensions < MAX_STALL_EXTENSIONS) {
          // The agent's own thread was held up (a busy box, a long synchronous write): the time
          // it lost is not the peer's fault. Give the peer its whole timeout again.
          extensions += 1;
          dueAt = performance.now() + options.timeoutMs;
          timer = setTimeout(onTimeout, options.timeoutMs);
          return;
        }
        // Timers run before I/O in each turn of the loop, so an answer that arrived while the
        // loop was busy is still waiting: let it be read first. A socket that connected is open.
        setImmediate(() => finish({ state: 'silent', reason: 'timeout' }));
      };
      let timer = setTimeout(onTimeout, options.timeoutMs);
      this.#connecting.add(onAbort);
      extra?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.connect({ host: address, port, family: 4, autoSelectFamily: false });
    });
  }

  /** One request datagram, the first reply from that address and port (or null on silence). */
  async exchangeUdp(address: string, port: number, payload: Uint8Array, options: UdpExchangeOptions): Promise<Buffer | null> {
    this.guard.check(address);
    options.signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      let settled = false;
      const finish = (reply: Buffer | null, error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        socket.close();
        if (error) reject(error);
        else resolve(reply);
      };
      const onAbort = () => finish(null, options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      const timer = setTimeout(() => finish(null), options.timeoutMs);
      options.signal.addEventListener('abort', onAbort, { once: true });
      socket.on('message', (message, remote) => {
        if (remote.address === address && remote.port === port) finish(message.subarray(0, options.maxBytes));
      });
      // ICMP port unreachable surfaces as ECONNREFUSED on a connected UDP socket: that is "closed".
      socket.on('error', () => finish(null));
      socket.connect(port, address, () => socket.send(payload));
    });
  }
}

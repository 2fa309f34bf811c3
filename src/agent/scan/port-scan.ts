import type { DiscoveryDeps } from './discovery.js';
import type { RttEstimator } from './rtt.js';
import type { ProbeState } from './tcp-probe.js';

export interface PortScanDeps extends DiscoveryDeps {
  perHost: number;
  /** Extra attempts for a port that stayed silent (a lost SYN looks exactly like a filter). */
  retries: number;
}

export interface HostPortCallbacks {
  onOpen(port: number): void;
  /** Called once per port when its state is final. */
  onDone(): void;
}

/**
 * TCP connect scan of one host: open ports in ascending order. Callback-driven, no promise per
 * port: at most `perHost` connects at once, each first taking a slot of the scan-wide budget
 * (parked in the semaphore when it is full). Silent ports get `retries` more rounds.
 */
export function scanHostPorts(
  deps: PortScanDeps,
  address: string,
  ports: readonly number[],
  hostRtt: RttEstimator,
  signal: AbortSignal,
  callbacks: HostPortCallbacks,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const open: number[] = [];
    let queue: readonly number[] = ports;
    let silent: number[] = [];
    let attempt = 0;
    let next = 0;
    let running = 0;
    let stopped = false;

    const stop = (reason: unknown) => {
      if (stopped) return;
      stopped = true;
      reject(reason instanceof Error ? reason : new Error(String(reason)));
    };
    /** A connect that will not happen: its slot (if taken) goes back. */
    const drop = (release: boolean, reason?: unknown) => {
      if (release) deps.global.release();
      running -= 1;
      if (reason !== undefined) stop(reason);
    };
    const settle = (port: number, state: ProbeState, rttMs: number) => {
      deps.global.release();
      running -= 1;
      if (stopped) return;
      // A stopped scan ends its attempts in flight as silent: that is no verdict.
      if (signal.aborted) return stop(signal.reason);
      if (state !== 'silent') hostRtt.observe(rttMs);
      if (state === 'open') {
        open.push(port);
        callbacks.onOpen(port);
      }
      if (state === 'silent' && attempt < deps.retries) silent.push(port);
      else callbacks.onDone();
      pump();
    };
    const launch = (port: number) => {
      if (stopped) return drop(true);
      // A retry backs off: a port silent once gets twice the time, in case the first try met a busy peer.
      const timeoutMs = hostRtt.timeoutMs() * 2 ** attempt;
      try {
        deps.net.probeTcp(address, port, timeoutMs, (state, rttMs) => settle(port, state, rttMs));
      } catch (error) {
        drop(true, error);
      }
    };
    const granted = (port: number) => {
      // A token at hand (always, with no limit) launches at once: no promise per connect.
      if (stopped || deps.rate.tryTake()) launch(port);
      else
        deps.rate.take(signal).then(
          () => launch(port),
          (error: unknown) => drop(true, error),
        );
    };
    function pump(): void {
      while (!stopped && running < deps.perHost && next < queue.length) {
        const port = queue[next] as number;
        next += 1;
        running += 1;
        deps.global.wait(
          () => granted(port),
          (reason) => drop(false, reason),
        );
      }
      if (stopped || running > 0 || next < queue.length) return;
      // The round is over: the silent ports, if any and if tries are left, make the next one.
      attempt += 1;
      queue = silent;
      silent = [];
      next = 0;
      if (attempt > deps.retries || queue.length === 0) resolve(open.sort((a, b) => a - b));
      else pump();
    }

    pump();
  });
}

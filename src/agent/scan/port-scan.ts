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

/** TCP connect scan of one host: open ports in ascending order. */
export async function scanHostPorts(
  deps: PortScanDeps,
  address: string,
  ports: readonly number[],
  hostRtt: RttEstimator,
  signal: AbortSignal,
  callbacks: HostPortCallbacks,
): Promise<number[]> {
  const open: number[] = [];
  let queue: number[] = [...ports];
  for (let attempt = 0; attempt <= deps.retries && queue.length > 0; attempt += 1) {
    const silent: number[] = [];
    const last = attempt === deps.retries;
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const port = queue[next] as number;
        next += 1;
        // Fast paths: a free slot and no rate limit cost no promise of their own.
        if (!deps.global.tryAcquire()) await deps.global.acquire(signal);
        let state: ProbeState;
        try {
          if (!deps.rate.unlimited) await deps.rate.take(signal);
          // A retry backs off: a port silent once gets twice the time, in case the first try met a busy peer.
          const timeoutMs = hostRtt.timeoutMs() * 2 ** attempt;
          state = await new Promise<ProbeState>((resolve) =>
            deps.net.probeTcp(address, port, timeoutMs, (result, rttMs) => {
              if (result !== 'silent') hostRtt.observe(rttMs);
              resolve(result);
            }),
          );
          // A stopped scan ends its attempts in flight as silent: that is no verdict.
          signal.throwIfAborted();
        } finally {
          deps.global.release();
        }
        if (state === 'open') open.push(port);
        if (state === 'open') callbacks.onOpen(port);
        if (state === 'silent' && !last) silent.push(port);
        else callbacks.onDone();
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.perHost, queue.length) }, worker));
    queue = silent;
  }
  return open.sort((a, b) => a - b);
}

import { setMaxListeners } from 'node:events';
import type { AliveEvidence } from './events.js';
import type { GuardedNet } from './guarded-net.js';
import type { RateLimiter, Semaphore } from './limits.js';
import type { RttEstimator } from './rtt.js';

export interface DiscoveryDeps {
  net: GuardedNet;
  global: Semaphore;
  rate: RateLimiter;
  rtt: RttEstimator;
}

export interface AliveHost {
  address: string;
  foundBy: AliveEvidence;
  port?: number;
}

/**
 * Is the host there? Connect to the discovery ports at once; the first that opens or is
 * refused (a RST is an answer too) settles it and cancels the rest. A host silent on all of
 * them is taken as down: without raw sockets there is no ICMP echo to ask.
 */
export async function pingHost(deps: DiscoveryDeps, address: string, ports: readonly number[], signal: AbortSignal): Promise<AliveHost | null> {
  const settled = new AbortController();
  const hostSignal = AbortSignal.any([signal, settled.signal]);
  setMaxListeners(0, hostSignal);
  let found: AliveHost | null = null;
  await Promise.all(
    ports.map(async (port) => {
      try {
        await deps.global.acquire(hostSignal);
      } catch {
        return;
      }
      try {
        if (found) return;
        await deps.rate.take(hostSignal);
        const outcome = await deps.net.connectTcp(address, port, { timeoutMs: deps.rtt.timeoutMs(), signal: hostSignal });
        if (outcome.state === 'silent' || found) return;
        deps.rtt.observe(outcome.rttMs);
        found = { address, foundBy: outcome.state === 'open' ? 'tcp-open' : 'tcp-refused', port };
        settled.abort();
      } catch (error) {
        if (!settled.signal.aborted) throw error;
      } finally {
        deps.global.release();
      }
    }),
  );
  signal.throwIfAborted();
  return found;
}

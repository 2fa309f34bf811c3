import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { pingHost } from './discovery.js';
import type { AliveEvidence, ScanEvent } from './events.js';
import { GuardedNet } from './guarded-net.js';
import { forEachLimited, RateLimiter, Semaphore, type RateClock } from './limits.js';
import { scanHostPorts } from './port-scan.js';
import { DEFAULT_TCP_PORTS, DISCOVERY_TCP_PORTS, parsePortList } from './ports.js';
import { RttEstimator } from './rtt.js';
import { ScopeGuard } from './scope-guard.js';
import type { ServiceFinding } from './service.js';
import type { ScanSettings } from './settings.js';
import { expandTargets } from './targets.js';

/** What the pipeline (or the CLI) asks for. */
export interface ScanRequest {
  subnets: readonly string[];
  /** Addresses the router already knows are up (ARP, DHCP): no discovery probe needed. */
  knownAlive?: readonly string[];
  /** A list or a spec such as "22,80,8000-8100"; default DEFAULT_TCP_PORTS. */
  ports?: readonly number[] | string;
  excludes?: readonly string[];
  /** Ask DNS, SNMP and MNDP over UDP (default true). */
  udp?: boolean;
  /** Identify services and versions on open TCP ports (default true). */
  detect?: boolean;
}

export interface HostResult {
  address: string;
  foundBy: AliveEvidence;
  openPorts: { port: number; protocol: 'tcp' | 'udp' }[];
  services: ServiceFinding[];
  /** Probes cut by a deadline or a limit before they named the service. */
  cuts?: { port: number; protocol: 'tcp' | 'udp'; reason: string }[];
}

export interface SessionOptions {
  settings: ScanSettings;
  signal: AbortSignal;
  emit: (event: ScanEvent) => void;
  logger?: Logger;
  /** The connect rate's clock; tests drive it by hand. */
  rateClock?: RateClock;
}

/**
 * One scan's shared state: its targets, the scope guard every socket passes, the global
 * concurrency and rate limits, and the RTT estimate. `discover` then `scanPorts`/`identify`
 * per host are the steps; the engine runs them phase by phase over the whole subnet, the scan
 * pipeline host by host so each host's results can be stored (and checkpointed) when it is done.
 */
export function createScanSession(request: ScanRequest, { settings, signal, emit, rateClock }: SessionOptions) {
  const targets = expandTargets(request.subnets, request.excludes);
  const ports =
    request.ports === undefined
      ? [...DEFAULT_TCP_PORTS]
      : typeof request.ports === 'string'
        ? parsePortList(request.ports)
        : parsePortList(request.ports.join(','));
  const guard = new ScopeGuard(targets);
  const guardedNet = new GuardedNet(guard, signal);
  const global = new Semaphore(settings.globalConcurrency, signal);
  const rate = new RateLimiter(settings.connectsPerSecond, rateClock);
  const rtt = new RttEstimator(settings.rtt);
  const pingDeps = { net: guardedNet, global, rate, rtt };
  const portDeps = { ...pingDeps, perHost: settings.perHostConcurrency, retries: settings.retries };
  const limits = { maxBytes: settings.maxBannerBytes, stepTimeoutMs: settings.probeStepTimeoutMs, connectTimeoutMs: settings.rtt.maxTimeoutMs };

  /** Finds the live hosts among the targets; `onProgress` after each target. */
  async function discover(onAlive: (host: HostResult, port?: number) => void, onProgress: (done: number) => void): Promise<void> {
    const known = new Set<string>();
    for (const address of request.knownAlive ?? []) {
      if (guard.allows(address)) known.add(address);
      else emit({ type: 'warning', address, message: `known-alive address ${address} is outside the scan scope; not scanned` });
    }
    let done = 0;
    const parallel = Math.max(1, Math.floor(settings.globalConcurrency / Math.min(DISCOVERY_TCP_PORTS.length, settings.globalConcurrency)));
    await forEachLimited(targets, parallel * 2, signal, async (address) => {
      if (known.has(address)) onAlive({ address, foundBy: 'known-alive', openPorts: [], services: [] });
      else {
        const alive = await pingHost(pingDeps, address, DISCOVERY_TCP_PORTS, signal);
        if (alive) onAlive({ address: alive.address, foundBy: alive.foundBy, openPorts: [], services: [] }, alive.port);
      }
      done += 1;
      onProgress(done);
    });
    signal.throwIfAborted();
  }

  /** TCP connect over the port list and the UDP services of one host; fills host.openPorts (and UDP services). */
  async function scanPorts(host: HostResult, onPortDone: () => void): Promise<void> {
    const hostRtt = new RttEstimator(settings.rtt, rtt);
    // The probes load on first use (here and in identify): an open-port scan starts without them (zod, dns-packet, asn1).
    const udp =
      request.udp === false
        ? Promise.resolve([])
        : import('./udp-services.js').then(({ scanUdpServices }) =>
            scanUdpServices(
              guardedNet,
              host.address,
              { timeoutMs: settings.udpTimeoutMs, snmpCommunity: settings.snmpCommunity, maxBytes: settings.maxBannerBytes },
              signal,
            ),
          );
    await scanHostPorts(portDeps, host.address, ports, hostRtt, signal, {
      onOpen: (port) => {
        host.openPorts.push({ port, protocol: 'tcp' });
        emit({ type: 'port-open', address: host.address, port, protocol: 'tcp' });
      },
      onDone: onPortDone,
    });
    for (const finding of await udp) {
      host.openPorts.push({ port: finding.port, protocol: 'udp' });
      host.services.push(finding);
      emit({ type: 'port-open', address: host.address, port: finding.port, protocol: 'udp' });
      emit({ type: 'service-identified', address: host.address, finding });
    }
  }

  /** Names the service on one open TCP port of a host. */
  async function identify(host: HostResult, port: number): Promise<void> {
    const { identifyTcpService } = await import('./detect.js');
    const finding = await global.run(signal, () =>
      identifyTcpService(
        guardedNet,
        host.address,
        port,
        { limits, portTimeoutMs: settings.portTimeoutMs, onCut: (reason) => (host.cuts ??= []).push({ port, protocol: 'tcp', reason }) },
        signal,
      ),
    );
    host.services.push(finding);
    emit({ type: 'service-identified', address: host.address, finding });
  }

  /** Ports, UDP services and service names of one host: what the pipeline stores as one unit. */
  async function scanHost(host: HostResult): Promise<HostResult> {
    await scanPorts(host, () => undefined);
    if (request.detect !== false) {
      const openTcp = host.openPorts.filter((open) => open.protocol === 'tcp').map((open) => open.port);
      await forEachLimited(openTcp, settings.perHostConcurrency, signal, (port) => identify(host, port));
    }
    signal.throwIfAborted();
    sortHost(host);
    return host;
  }

  // `rate` is the scan's connect rate: the runner may slow it while the scan runs.
  return { targets, ports, guard, rate, discover, scanPorts, identify, scanHost };
}

export type ScanSession = ReturnType<typeof createScanSession>;

/** tcp before udp, then by port. A plain comparison: localeCompare's first call sets up ICU's collator (~15 ms). */
const byProtocolThenPort = (a: { protocol: string; port: number }, b: { protocol: string; port: number }) =>
  (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) || a.port - b.port;

export function sortHost(host: HostResult): void {
  host.openPorts.sort(byProtocolThenPort);
  host.services.sort(byProtocolThenPort);
}

/** The scan's own signal: many sockets and waiters listen to it, which is expected here. */
export function linkedSignal(callerSignal: AbortSignal): { signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const forward = () => controller.abort(callerSignal.reason);
  if (callerSignal.aborted) forward();
  else callerSignal.addEventListener('abort', forward, { once: true });
  return { signal: controller.signal, unlink: () => callerSignal.removeEventListener('abort', forward) };
}

import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import { identifyTcpService } from './detect.js';
import { pingHost } from './discovery.js';
import type { AliveEvidence, ScanEvent, ScanEventListener, ScanPhase } from './events.js';
import { GuardedNet } from './guarded-net.js';
import { forEachLimited, RateLimiter, Semaphore } from './limits.js';
import { scanHostPorts } from './port-scan.js';
import { DEFAULT_TCP_PORTS, DISCOVERY_TCP_PORTS, parsePortList } from './ports.js';
import { RttEstimator } from './rtt.js';
import { ScopeGuard } from './scope-guard.js';
import type { ServiceFinding } from './service.js';
import { expandTargets } from './targets.js';
import { scanUdpServices } from './udp-services.js';
import { defaultScanSettings, type ScanSettings } from './settings.js';

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
  /** Identify the service and version on each open TCP port (default true); false = ports only. */
  detect?: boolean;
}

export interface HostResult {
  address: string;
  foundBy: AliveEvidence;
  openPorts: { port: number; protocol: 'tcp' | 'udp' }[];
  services: ServiceFinding[];
}

export interface ScanResult {
  targets: number;
  ports: number;
  hosts: HostResult[];
  /** True when the signal stopped the scan; hosts hold what was found until then. */
  aborted: boolean;
  startedAt: string;
  durationMs: number;
}

export interface ScanEngineDeps {
  logger?: Logger;
  settings?: Partial<ScanSettings>;
}

export interface ScanEngine {
  scan(request: ScanRequest, options: { signal: AbortSignal; onEvent?: ScanEventListener }): Promise<ScanResult>;
}

/** Progress events at most this often per phase, so a /22 does not flood listeners. */
const PROGRESS_INTERVAL_MS = 100;

export function createScanEngine(deps: ScanEngineDeps = {}): ScanEngine {
  const settings: ScanSettings = { ...defaultScanSettings, ...deps.settings };
  const logger = deps.logger?.child({ component: 'scan' });

  return {
    async scan(request, { signal: callerSignal, onEvent }) {
      const started = Date.now();
      const targets = expandTargets(request.subnets, request.excludes);
      const ports = request.ports === undefined ? [...DEFAULT_TCP_PORTS] : typeof request.ports === 'string' ? parsePortList(request.ports) : parsePortList(request.ports.join(','));
      // The scan's own signal: many sockets and waiters listen to it, which is expected here.
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      const forward = () => controller.abort(callerSignal.reason);
      if (callerSignal.aborted) forward();
      else callerSignal.addEventListener('abort', forward, { once: true });
      const signal = controller.signal;
      const guard = new ScopeGuard(targets);
      const guardedNet = new GuardedNet(guard, signal);
      const emit = (event: ScanEvent) => {
        try {
          onEvent?.(event);
        } catch (error) {
          // A listener's bug must not stop the scan.
          logger?.warn({ err: error, event: event.type }, 'scan event listener threw');
        }
      };
      const progress = progressEmitter(emit);
      const hosts = new Map<string, HostResult>();
      const global = new Semaphore(settings.globalConcurrency);
      const rate = new RateLimiter(settings.connectsPerSecond);
      const rtt = new RttEstimator(settings.rtt);
      const pingDeps = { net: guardedNet, global, rate, rtt };

      const found = (address: string, foundBy: AliveEvidence, port?: number) => {
        hosts.set(address, { address, foundBy, openPorts: [], services: [] });
        emit({ type: 'host-found', address, foundBy, ...(port === undefined ? {} : { port }) });
      };
      const phase = (name: ScanPhase) => emit({ type: 'phase', phase: name, hosts: name === 'discovery' ? targets.length : hosts.size });

      let aborted = false;
      try {
        phase('discovery');
        const known = new Set<string>();
        for (const address of request.knownAlive ?? []) {
          if (guard.allows(address)) known.add(address);
          else emit({ type: 'warning', address, message: `known-alive address ${address} is outside the scan scope; not scanned` });
        }
        let discovered = 0;
        const discoveryParallel = Math.max(1, Math.floor(settings.globalConcurrency / Math.min(DISCOVERY_TCP_PORTS.length, settings.globalConcurrency)));
        await forEachLimited(targets, discoveryParallel * 2, signal, async (address) => {
          if (known.has(address)) found(address, 'known-alive');
          else {
            const alive = await pingHost(pingDeps, address, DISCOVERY_TCP_PORTS, signal);
            if (alive) found(alive.address, alive.foundBy, alive.port);
          }
          discovered += 1;
          progress('discovery', discovered, targets.length);
        });
        signal.throwIfAborted();
        progress('discovery', targets.length, targets.length, true);

        phase('ports');
        const alive = [...hosts.keys()];
        const total = alive.length * ports.length;
        let scanned = 0;
        const portDeps = { ...pingDeps, perHost: settings.perHostConcurrency, retries: settings.retries };
        await forEachLimited(alive, settings.hostGroup, signal, async (address) => {
          const host = hosts.get(address) as HostResult;
          const hostRtt = new RttEstimator(settings.rtt, rtt);
          const udp = request.udp === false ? Promise.resolve([]) : scanUdpServices(guardedNet, address, { timeoutMs: settings.udpTimeoutMs, snmpCommunity: settings.snmpCommunity, maxBytes: settings.maxBannerBytes }, signal);
          await scanHostPorts(portDeps, address, ports, hostRtt, signal, {
            onOpen: (port) => {
              host.openPorts.push({ port, protocol: 'tcp' });
              emit({ type: 'port-open', address, port, protocol: 'tcp' });
            },
            onDone: () => {
              scanned += 1;
              progress('ports', scanned, total);
            },
          });
          for (const finding of await udp) {
            host.openPorts.push({ port: finding.port, protocol: 'udp' });
            host.services.push(finding);
            emit({ type: 'port-open', address, port: finding.port, protocol: 'udp' });
            emit({ type: 'service-identified', address, finding });
          }
        });
        signal.throwIfAborted();
        progress('ports', total, total, true);

        phase('services');
        const openTcp = request.detect === false ? [] : [...hosts.values()].flatMap((host) => host.openPorts.filter((open) => open.protocol === 'tcp').map((open) => ({ host, port: open.port })));
        let identified = 0;
        const limits = { maxBytes: settings.maxBannerBytes, stepTimeoutMs: settings.probeStepTimeoutMs, connectTimeoutMs: settings.rtt.maxTimeoutMs };
        await forEachLimited(openTcp, settings.serviceConcurrency, signal, async ({ host, port }) => {
          const finding = await global.run(signal, () => identifyTcpService(guardedNet, host.address, port, { limits, portTimeoutMs: settings.portTimeoutMs }, signal));
          host.services.push(finding);
          emit({ type: 'service-identified', address: host.address, finding });
          identified += 1;
          progress('services', identified, openTcp.length);
        });
        signal.throwIfAborted();
        progress('services', openTcp.length, openTcp.length, true);
        phase('done');
      } catch (error) {
        if (!signal.aborted || error instanceof AgentError) throw error;
        aborted = true;
        logger?.info({ hosts: hosts.size }, 'scan aborted');
      }

      callerSignal.removeEventListener('abort', forward);
      const sorted = [...hosts.values()].sort((a, b) => ipOrder(a.address) - ipOrder(b.address));
      for (const host of sorted) {
        host.openPorts.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
        host.services.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
      }
      return { targets: targets.length, ports: ports.length, hosts: sorted, aborted, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started };
    },
  };
}

function ipOrder(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

function progressEmitter(emit: (event: ScanEvent) => void) {
  let lastAt = 0;
  let lastPhase = '';
  return (phase: 'discovery' | 'ports' | 'services', done: number, total: number, force = false) => {
    const now = performance.now();
    if (!force && phase === lastPhase && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastAt = now;
    lastPhase = phase;
    emit({ type: 'progress', phase, done, total });
  };
}

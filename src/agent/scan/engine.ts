import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { ScanEvent, ScanEventListener, ScanPhase } from './events.js';
import { forEachLimited } from './limits.js';
import { createScanSession, linkedSignal, sortHost, type HostResult, type ScanRequest } from './session.js';
import { defaultScanSettings, type ScanSettings } from './settings.js';
import { ipv4ToNumber } from '../../shared/ipv4.js';

export type { HostResult, ScanRequest } from './session.js';

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
      const { signal, unlink } = linkedSignal(callerSignal);
      const emit = (event: ScanEvent) => {
        try {
          onEvent?.(event);
        } catch (error) {
          // A listener's bug must not stop the scan.
          logger?.warn({ err: error, event: event.type }, 'scan event listener threw');
        }
      };
      const session = createScanSession(request, { settings, signal, emit, logger });
      const { targets, ports } = session;
      const progress = progressEmitter(emit);
      const hosts = new Map<string, HostResult>();
      const phase = (name: ScanPhase) => emit({ type: 'phase', phase: name, hosts: name === 'discovery' ? targets.length : hosts.size });

      let aborted = false;
      try {
        phase('discovery');
        await session.discover(
          (host, port) => {
            hosts.set(host.address, host);
            emit({ type: 'host-found', address: host.address, foundBy: host.foundBy, ...(port === undefined ? {} : { port }) });
          },
          (done) => progress('discovery', done, targets.length),
        );
        progress('discovery', targets.length, targets.length, true);

        phase('ports');
        const total = hosts.size * ports.length;
        let scanned = 0;
        await forEachLimited([...hosts.values()], settings.hostGroup, signal, (host) =>
          session.scanPorts(host, () => {
            scanned += 1;
            progress('ports', scanned, total);
          }),
        );
        signal.throwIfAborted();
        progress('ports', total, total, true);

        // Phase by phase over the whole subnet: every host's ports first, then every service, which
        // keeps the global socket budget full (the pipeline goes host by host with session.scanHost).
        phase('services');
        const openTcp =
          request.detect === false
            ? []
            : [...hosts.values()].flatMap((host) => host.openPorts.filter((open) => open.protocol === 'tcp').map((open) => ({ host, port: open.port })));
        let identified = 0;
        await forEachLimited(openTcp, settings.serviceConcurrency, signal, async ({ host, port }) => {
          await session.identify(host, port);
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

      unlink();
      const sorted = [...hosts.values()].sort((a, b) => ipv4ToNumber(a.address) - ipv4ToNumber(b.address));
      for (const host of sorted) sortHost(host);
      return {
        targets: targets.length,
        ports: ports.length,
        hosts: sorted,
        aborted,
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
      };
    },
  };
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

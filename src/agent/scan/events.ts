import type { ServiceFinding } from './service.js';

export type ScanPhase = 'discovery' | 'ports' | 'services' | 'done';

/** How a host was found alive. */
export type AliveEvidence = 'known-alive' | 'tcp-open' | 'tcp-refused';

export type ScanEvent =
  | { type: 'phase'; phase: ScanPhase; hosts: number }
  | { type: 'host-found'; address: string; foundBy: AliveEvidence; port?: number }
  | { type: 'port-open'; address: string; port: number; protocol: 'tcp' | 'udp' }
  | { type: 'service-identified'; address: string; finding: ServiceFinding }
  | { type: 'progress'; phase: Exclude<ScanPhase, 'done'>; done: number; total: number }
  | { type: 'warning'; message: string; address?: string };

export type ScanEventListener = (event: ScanEvent) => void;

/** Share of the whole scan each phase stands for, for a single percent figure. */
const phaseWeights = { discovery: [0, 10], ports: [10, 80], services: [80, 100] } as const;

/** Overall percent (0..100) from a progress event. */
export function progressPercent(event: Extract<ScanEvent, { type: 'progress' }>): number {
  const [from, to] = phaseWeights[event.phase];
  const share = event.total === 0 ? 1 : Math.min(1, event.done / event.total);
  return Math.floor(from + (to - from) * share);
}

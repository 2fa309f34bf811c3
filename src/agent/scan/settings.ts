import type { RttLimits } from './rtt.js';

export interface ScanSettings {
  /** Sockets open at once across the scan (fds and the site's gear both have limits). */
  globalConcurrency: number;
  /** Connects at once to one host: small devices (cameras, printers) drop SYN floods. */
  perHostConcurrency: number;
  /** Hosts port-scanned at once. */
  hostGroup: number;
  /** Connect attempts per second, 0 = only the concurrency caps. */
  connectsPerSecond: number;
  retries: number;
  rtt: RttLimits;
  maxBannerBytes: number;
  probeStepTimeoutMs: number;
  portTimeoutMs: number;
  serviceConcurrency: number;
  udpTimeoutMs: number;
  snmpCommunity: string;
}

export const defaultScanSettings: Readonly<ScanSettings> = Object.freeze({
  globalConcurrency: 256,
  perHostConcurrency: 32,
  hostGroup: 16,
  connectsPerSecond: 0,
  retries: 1,
  rtt: { initialTimeoutMs: 1000, minTimeoutMs: 100, maxTimeoutMs: 3000 },
  maxBannerBytes: 16 * 1024,
  probeStepTimeoutMs: 3000,
  portTimeoutMs: 8000,
  serviceConcurrency: 32,
  udpTimeoutMs: 1500,
  snmpCommunity: 'public',
});

import { describe, expect, it } from 'vitest';
import { createScanEngine } from '../../../src/agent/scan/engine.js';
import type { ScanEvent } from '../../../src/agent/scan/events.js';
import { openFds, settledFds, tcpServer } from './servers.js';

describe('stopping a scan', () => {
  it('stops a /22 sweep within a second of the abort, keeps what it found, and frees every socket', async () => {
    await tcpServer('127.0.13.50', 80, (socket) => socket.end());
    const before = openFds();
    const controller = new AbortController();
    let abortedAt = 0;
    const events: ScanEvent[] = [];
    const scan = createScanEngine().scan(
      { subnets: ['127.0.12.0/22'], udp: false },
      {
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'phase' && event.phase === 'ports') {
            setTimeout(() => {
              abortedAt = performance.now();
              controller.abort(new Error('operator stop'));
            }, 200);
          }
        },
      },
    );
    const result = await scan;
    const stoppedIn = performance.now() - abortedAt;
    expect(result.aborted).toBe(true);
    expect(abortedAt).toBeGreaterThan(0);
    // The aim is under a second; the margin is for a CI machine whose two cores run other tests.
    expect(stoppedIn).toBeLessThan(1500);
    expect(result.hosts.map((host) => host.address)).toContain('127.0.13.50');
    expect(events.some((event) => event.type === 'phase' && event.phase === 'done')).toBe(false);
    expect(await settledFds(before)).toBeLessThanOrEqual(before);
  });

  it('stops service detection stuck on a tarpit', async () => {
    await tcpServer('127.0.13.51', 22, () => undefined);
    const controller = new AbortController();
    let abortedAt = 0;
    const result = await createScanEngine({ settings: { probeStepTimeoutMs: 60_000, portTimeoutMs: 120_000 } }).scan(
      { subnets: ['127.0.13.51'], ports: '22', udp: false },
      {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'phase' && event.phase === 'services') {
            setTimeout(() => {
              abortedAt = performance.now();
              controller.abort();
            }, 300);
          }
        },
      },
    );
    expect(result.aborted).toBe(true);
    expect(performance.now() - abortedAt).toBeLessThan(1500);
    expect(result.hosts[0]?.openPorts).toEqual([{ port: 22, protocol: 'tcp' }]);
  });
});

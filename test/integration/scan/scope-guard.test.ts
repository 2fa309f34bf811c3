import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/agent/errors.js';
import { createScanEngine } from '../../../src/agent/scan/engine.js';
import type { ScanEvent } from '../../../src/agent/scan/events.js';
import { GuardedNet } from '../../../src/agent/scan/guarded-net.js';
import { ScopeGuard } from '../../../src/agent/scan/scope-guard.js';
import { tcpServer, udpServer } from './servers.js';

// This file's peers live on 127.0.13.1-15; port 47001 is in no default list.
const PORT = 47001;

describe('the scope guard', () => {
  it('refuses a TCP connect or a UDP request outside the allowed set, naming the address, and sends nothing', async () => {
    const outside = await tcpServer('127.0.13.9', PORT, (socket) => socket.end());
    const outsideUdp = await udpServer('127.0.13.9', PORT, (message) => message);
    const guardedNet = new GuardedNet(new ScopeGuard(['127.0.13.8']), new AbortController().signal);
    const signal = new AbortController().signal;

    const tcp = await guardedNet.connectTcp('127.0.13.9', PORT, { timeoutMs: 500, signal }).catch((error: unknown) => error);
    expect(tcp).toBeInstanceOf(AgentError);
    expect((tcp as AgentError).code).toBe('AGENT_ERR_SCAN_OUT_OF_SCOPE');
    expect((tcp as AgentError).message).toContain('"127.0.13.9"');
    await expect(guardedNet.exchangeUdp('127.0.13.9', PORT, Buffer.from('x'), { timeoutMs: 200, signal, maxBytes: 10 })).rejects.toThrow(/"127\.0\.13\.9"/);
    // Other spellings of an allowed address are not the allowed address.
    for (const spelled of ['127.0.13.08', '::ffff:127.0.13.8', 'localhost']) {
      await expect(guardedNet.connectTcp(spelled, PORT, { timeoutMs: 200, signal }), spelled).rejects.toThrow(AgentError);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outside.connections()).toBe(0);
    expect(outsideUdp.requests).toHaveLength(0);
    expect(guardedNet.guard.refusals).toBe(5);
  });

  it('lets the scan connect inside its subnets only: known-alive hosts outside are reported and never touched', async () => {
    const inside = await tcpServer('127.0.13.8', PORT, (socket) => socket.end());
    const outside = await tcpServer('127.0.13.9', PORT, (socket) => socket.end());
    const excluded = await tcpServer('127.0.13.2', PORT, (socket) => socket.end());
    const events: ScanEvent[] = [];
    const result = await createScanEngine().scan(
      {
        subnets: ['127.0.13.0/29', '127.0.13.8/32'],
        excludes: ['127.0.13.2'],
        knownAlive: ['127.0.13.8', '127.0.13.9', '10.20.30.40'],
        ports: String(PORT),
        udp: false,
      },
      { signal: AbortSignal.timeout(20_000), onEvent: (event) => events.push(event) },
    );
    expect(result.targets).toBe(6);
    expect(outside.connections()).toBe(0);
    expect(excluded.connections()).toBe(0);
    expect(inside.connections()).toBeGreaterThanOrEqual(1);
    const host = result.hosts.find((entry) => entry.address === '127.0.13.8');
    expect(host?.foundBy).toBe('known-alive');
    expect(host?.openPorts).toEqual([{ port: PORT, protocol: 'tcp' }]);
    expect(result.hosts.map((entry) => entry.address)).not.toContain('127.0.13.9');
    const warnings = events.filter((event) => event.type === 'warning');
    expect(warnings.map((event) => event.address)).toEqual(['127.0.13.9', '10.20.30.40']);
  });
});

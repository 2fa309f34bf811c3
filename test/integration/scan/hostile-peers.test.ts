import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createScanEngine } from '../../../src/agent/scan/engine.js';
import { MAX_EVIDENCE_CHARS } from '../../../src/agent/scan/service.js';
import { openFds, settledFds, tcpServer } from './servers.js';

// This file's peers live on 127.0.13.32-47.
const caps = { probeStepTimeoutMs: 400, portTimeoutMs: 1200, maxBannerBytes: 16 * 1024 };

describe('hostile and broken peers', () => {
  it('are cut off by the caps: tarpit, flood, garbage TLS, half-open and trickling peers', async () => {
    const floodChunk = Buffer.alloc(64 * 1024, 0x41);
    let floodWritten = 0;
    await tcpServer('127.0.13.33', 22, () => undefined); // tarpit: accepts, never speaks
    await tcpServer('127.0.13.34', 21, (socket) => {
      const pump = () => {
        while (!socket.destroyed && socket.write(floodChunk)) floodWritten += floodChunk.length;
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    await tcpServer('127.0.13.35', 443, (socket) => socket.write(Buffer.from('\x15\x03\x03garbage that is not a TLS record at all\r\n')));
    await tcpServer('127.0.13.36', 80, (socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nServer: half'));
    }); // sends half a header, half-closes, keeps the socket
    const trickle = await tcpServer('127.0.13.37', 8080, (socket) => {
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('X')), 50);
      socket.on('close', () => clearInterval(timer));
    });
    const before = openFds();
    const started = performance.now();
    const result = await createScanEngine({ settings: caps }).scan(
      { subnets: ['127.0.13.32/28'], ports: '21,22,80,443,8080', udp: false },
      { signal: AbortSignal.timeout(30_000) },
    );
    const took = performance.now() - started;

    const service = (address: string, port: number) => result.hosts.find((host) => host.address === address)?.services.find((entry) => entry.port === port);
    expect(service('127.0.13.33', 22)).toMatchObject({ service: 'ssh', confidence: 20 });
    expect(service('127.0.13.33', 22)?.product).toBeUndefined();
    const flood = service('127.0.13.34', 21);
    expect(flood?.evidence.length).toBeLessThanOrEqual(MAX_EVIDENCE_CHARS);
    expect(flood?.service).toBe('unknown');
    expect(floodWritten).toBeGreaterThan(caps.maxBannerBytes);
    expect(service('127.0.13.35', 443)?.product).toBeUndefined();
    expect(service('127.0.13.36', 80)).toMatchObject({ service: 'http', product: 'half' });
    expect(service('127.0.13.37', 8080)?.product).toBeUndefined();
    expect(trickle.connections()).toBeGreaterThanOrEqual(1);
    // Five hostile ports, each bounded by portTimeoutMs, probed in parallel: far from "forever".
    expect(took).toBeLessThan(5 * caps.portTimeoutMs + 3000);
    expect(await settledFds(before)).toBeLessThanOrEqual(before);
  });

  it('does not mistake a TLS server for a plain one, and reads its certificate', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/edge-cve-tls-');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${dir}/k`,
        '-out',
        `${dir}/c`,
        '-days',
        '2',
        '-subj',
        '/CN=hostile.test',
      ],
      { stdio: 'ignore' },
    );
    const server = tls.createServer({ key: readFileSync(`${dir}/k`), cert: readFileSync(`${dir}/c`) }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end('HTTP/1.1 204 No Content\r\nServer: hostile/2.0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(8443, '127.0.13.38', () => resolve()));
    try {
      const result = await createScanEngine({ settings: caps }).scan(
        { subnets: ['127.0.13.38'], ports: '8443', udp: false },
        { signal: AbortSignal.timeout(20_000) },
      );
      const found = result.hosts[0]?.services[0];
      expect(found).toMatchObject({ service: 'https', product: 'hostile', version: '2.0', facts: { 'tls-subject': 'CN=hostile.test' } });
      expect(found?.facts?.['tls-valid-to']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

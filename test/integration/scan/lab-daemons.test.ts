import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceCpe } from '../../../src/cve/services.js';
import { createScanEngine, type ScanResult } from '../../../src/agent/scan/engine.js';
import type { ScanEvent } from '../../../src/agent/scan/events.js';
import { startLab, type Lab, type LabService } from '../../lab/lab.js';

// Real Debian daemons on 127.0.11.0/24, each bound to its own address.
let lab: Lab;
let result: ScanResult;
const events: ScanEvent[] = [];

beforeAll(async () => {
  lab = await startLab({ prefix: '127.0.11' });
  result = await createScanEngine().scan({ subnets: [lab.subnet] }, { signal: AbortSignal.timeout(60_000), onEvent: (event) => events.push(event) });
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

function findingFor(service: LabService, protocol: 'tcp' | 'udp', port: number) {
  return result.hosts.find((host) => host.address === service.address)?.services.find((entry) => entry.protocol === protocol && entry.port === port);
}

describe('the scanner against the loopback lab', () => {
  it('has every daemon of the lab installed and running', () => {
    expect(lab.missing).toEqual([]);
    expect(lab.services.map((service) => service.name).sort()).toEqual(['dnsmasq', 'lighttpd', 'nginx', 'openssh', 'redis', 'snmpd', 'vsftpd']);
  });

  it('names each service with the version dpkg says is installed', () => {
    for (const service of lab.services) {
      for (const { port, protocol } of service.ports) {
        const finding = findingFor(service, protocol, port);
        const label = `${service.name} ${protocol}/${port}`;
        expect(finding, label).toBeDefined();
        expect(finding?.product, label).toBe(service.expect.product);
        expect(`${finding?.version}${finding?.update ?? ''}`, label).toBe(service.upstreamVersion);
        expect(finding && serviceCpe(finding), label).toMatch(/^cpe:2\.3:a:[^:]+:[^:]+:\d/);
        expect(finding?.evidence.length, label).toBeGreaterThan(0);
      }
    }
  });

  it('reads the Debian revision from the OpenSSH banner and the certificate from nginx over TLS', () => {
    const ssh = lab.services.find((service) => service.name === 'openssh') as LabService;
    expect(findingFor(ssh, 'tcp', 22)?.distro).toBe(`Debian-${ssh.debianRevision}`);
    expect(serviceCpe(findingFor(ssh, 'tcp', 22) ?? {})).toBe(`cpe:2.3:a:openbsd:openssh:${ssh.upstreamVersion.replace(/p(\d+)$/, ':p$1')}:*:*:*:*:*:*`);
    const nginx = lab.services.find((service) => service.name === 'nginx') as LabService;
    expect(findingFor(nginx, 'tcp', 443)).toMatchObject({ service: 'https', facts: { 'tls-subject': 'CN=lab-nginx', title: 'lab nginx' } });
  });

  it('finds each daemon only on its own address', () => {
    const ssh = lab.services.find((service) => service.name === 'openssh') as LabService;
    const others = lab.services.filter((service) => service !== ssh);
    for (const other of others) {
      const host = result.hosts.find((entry) => entry.address === other.address);
      expect(
        host?.openPorts.some((open) => open.protocol === 'tcp' && open.port === 22),
        other.address,
      ).toBe(false);
    }
  });

  it('reports the phases in order, every lab host found, and progress that ends at its total', () => {
    const phases = events.filter((event) => event.type === 'phase').map((event) => event.phase);
    expect(phases).toEqual(['discovery', 'ports', 'services', 'done']);
    const found = new Set(events.flatMap((event) => (event.type === 'host-found' ? [event.address] : [])));
    for (const service of lab.services) expect(found.has(service.address), service.address).toBe(true);
    for (const phase of ['discovery', 'ports', 'services'] as const) {
      const last = events.filter((event) => event.type === 'progress' && event.phase === phase).at(-1);
      expect(last, phase).toMatchObject({ done: expect.any(Number) });
      if (last?.type === 'progress') expect(last.done, phase).toBe(last.total);
    }
    const identified = events.filter((event) => event.type === 'service-identified').length;
    expect(identified).toBe(result.hosts.reduce((sum, host) => sum + host.services.length, 0));
  });
});

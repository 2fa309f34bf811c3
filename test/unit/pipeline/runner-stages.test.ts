import { describe, expect, it } from 'vitest';
import { classifyEnd, SiteFailure, StopRequest } from '../../../src/agent/pipeline/runner/outcome.js';
import { hostRecord } from '../../../src/agent/pipeline/runner/stage-hosts.js';
import type { InventoryHost } from '../../../src/agent/routeros/index.js';

const aborted = (reason: unknown) => {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
};
const live = new AbortController().signal;

describe('how a run that did not complete ends', () => {
  it.each([
    ['a shutdown pauses it, whatever it kept', aborted(new Error('agent stopping')), 3, { kind: 'paused' }],
    ['a stop request with hosts kept: partial', aborted(new StopRequest()), 2, { kind: 'stopped', status: 'partial' }],
    ['a stop request before any host: failed', aborted(new StopRequest()), 0, { kind: 'stopped', status: 'failed' }],
    ['an error with hosts kept: partial', live, 1, { kind: 'failed', status: 'partial', message: 'disk full' }],
    ['an error before any host: failed', live, 0, { kind: 'failed', status: 'failed', message: 'disk full' }],
  ])('%s', (_name, signal, kept, end) => {
    expect(classifyEnd(new Error('disk full'), signal, kept)).toEqual(end);
  });

  it('a site failure fails the site with its message', () => {
    expect(classifyEnd(new SiteFailure('router unreachable: timeout'), live, 4)).toEqual({ kind: 'site-failure', message: 'router unreachable: timeout' });
  });
});

describe('a probed host as stored', () => {
  const known: InventoryHost = {
    mac: '00:0C:29:00:00:01',
    ips: ['127.0.30.2'],
    hostnames: ['nas'],
    interfaces: ['bridge'],
    vendor: 'VMware',
    randomized_mac: false,
    first_seen: '2027-01-01T00:00:00.000Z',
    last_seen: '2027-01-01T00:00:00.000Z',
    sources: [
      { table: 'arp', seen_at: '2027-01-01T00:00:00.000Z' },
      { table: 'ipv6-neighbor', seen_at: '2027-01-01T00:00:00.000Z' },
    ],
  };

  it("takes the router's MAC, name and vendor, and its tables as sources", () => {
    const record = hostRecord({ ip: '127.0.30.2' }, { address: '127.0.30.2', foundBy: 'known-alive', openPorts: [], services: [] }, known);
    expect(record).toMatchObject({ ip: '127.0.30.2', mac: known.mac, hostname: 'nas', manufacturer: 'VMware', role: 'host', sources: ['arp', 'neighbor'] });
  });

  it('adds the sweep as a source only for a host the sweep found', () => {
    const record = hostRecord({ ip: '127.0.30.9' }, { address: '127.0.30.9', foundBy: 'tcp-open', openPorts: [], services: [] }, undefined);
    expect(record).toMatchObject({ mac: null, hostname: null, sources: ['sweep'], found_by: 'tcp-open' });
  });
});

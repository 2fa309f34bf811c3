import { describe, expect, it } from 'vitest';
import { compareAddresses, inScope, networkOfInterfaceAddress, parseSubnet, subnetProblem } from '../../../src/shared/ipv4.js';

describe('subnetProblem: one verdict for the config, the API, the CLI and the scanner', () => {
  it.each([
    ['192.168.88.0/24', {}, undefined],
    ['10.0.4.0/22', {}, undefined],
    ['10.0.0.7/32', {}, undefined],
    ['10.0.0.7', {}, 'expected IPv4 CIDR like 192.168.88.0/24'],
    ['10.0.0.7', { bareAddress: true }, undefined],
    ['10.0.0.0/21', {}, 'expected a prefix between /22 and /32'],
    ['10.0.0.0/33', {}, 'expected a prefix between /22 and /32'],
    ['10.0.0.1/24', {}, 'host bits set, did you mean 10.0.0.0/24?'],
    ['127.0.99.5/24', { bareAddress: true }, 'host bits set, did you mean 127.0.99.0/24?'],
    ['10.0.5.0/22', {}, 'host bits set, did you mean 10.0.4.0/22?'],
    ['010.0.0.0/24', {}, 'expected IPv4 CIDR like 192.168.88.0/24'],
    ['10.1/24', {}, 'expected IPv4 CIDR like 192.168.88.0/24'],
    ['::1/128', {}, 'expected IPv4 CIDR like 192.168.88.0/24'],
    [' 10.0.0.0/24', {}, 'expected IPv4 CIDR like 192.168.88.0/24'],
  ])('%s %j -> %s', (text, rules, expected) => {
    expect(subnetProblem(text, rules)).toBe(expected);
  });

  it('parses a subnet and lists its hosts in order, without network and broadcast', () => {
    const hosts: string[] = [];
    parseSubnet('192.0.2.0/30').forEachHost((ip) => hosts.push(ip));
    expect(hosts).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(() => parseSubnet('192.0.2.1/30')).toThrow(/host bits set/);
  });

  it('keeps scope to canonical addresses inside the subnets', () => {
    expect(inScope('10.0.0.9', ['10.0.0.0/24'])).toBe(true);
    expect(inScope('10.0.1.9', ['10.0.0.0/24'])).toBe(false);
    expect(inScope('010.0.0.9', ['10.0.0.0/24'])).toBe(false);
    expect(inScope('10.0.0.9', ['10.0.0.9'])).toBe(true);
  });

  it('orders addresses numerically, others after', () => {
    expect(['10.0.0.10', 'fe80::1', '10.0.0.9', undefined, '9.255.255.255'].sort(compareAddresses)).toEqual([
      '9.255.255.255',
      '10.0.0.9',
      '10.0.0.10',
      'fe80::1',
      undefined,
    ]);
  });

  it('finds the network of a router interface address', () => {
    expect(networkOfInterfaceAddress('192.168.88.1/24')).toBe('192.168.88.0/24');
  });
});

import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/agent/errors.js';
import { DEFAULT_TCP_PORTS, parsePortList } from '../../../src/agent/scan/ports.js';
import { expandTargets, isCanonicalIPv4 } from '../../../src/agent/scan/targets.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AgentError ? `${error.code}: ${error.message}` : String(error);
  }
  return undefined;
}

describe('expandTargets', () => {
  it('leaves out the network and broadcast addresses of a /30 and shorter', () => {
    expect(expandTargets(['192.0.2.0/30'])).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(expandTargets(['192.0.2.0/24'])).toHaveLength(254);
    expect(expandTargets(['192.0.2.0/24'])[0]).toBe('192.0.2.1');
    expect(expandTargets(['192.0.2.0/24']).at(-1)).toBe('192.0.2.254');
  });

  it('keeps both addresses of a /31 and the single one of a /32 or a bare address', () => {
    expect(expandTargets(['192.0.2.6/31'])).toEqual(['192.0.2.6', '192.0.2.7']);
    expect(expandTargets(['192.0.2.9/32'])).toEqual(['192.0.2.9']);
    expect(expandTargets(['192.0.2.9'])).toEqual(['192.0.2.9']);
  });

  it('expands a /22 to 1022 hosts in order, across the third octet', () => {
    const hosts = expandTargets(['10.1.4.0/22']);
    expect(hosts).toHaveLength(1022);
    expect(hosts[0]).toBe('10.1.4.1');
    expect(hosts).toContain('10.1.5.0');
    expect(hosts.at(-1)).toBe('10.1.7.254');
  });

  it('dedupes overlapping subnets and sorts numerically, not as text', () => {
    const hosts = expandTargets(['192.0.2.8/29', '192.0.2.0/28', '192.0.2.100']);
    expect(hosts).toHaveLength(15);
    expect(hosts.slice(0, 3)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(hosts.at(-1)).toBe('192.0.2.100');
    expect(new Set(hosts).size).toBe(hosts.length);
  });

  it('removes excluded addresses and blocks', () => {
    const hosts = expandTargets(['192.0.2.0/24'], ['192.0.2.1', '192.0.2.128/25']);
    expect(hosts).toHaveLength(126);
    expect(hosts).not.toContain('192.0.2.1');
    expect(hosts).not.toContain('192.0.2.200');
    expect(hosts).toContain('192.0.2.127');
  });

  it('refuses prefixes outside /22../32, non-IPv4 text and excludes that leave nothing', () => {
    expect(codeOf(() => expandTargets(['10.0.0.0/21']))).toMatch(/^AGENT_ERR_SCAN_TARGET_INVALID: "10.0.0.0\/21": expected a prefix between \/22 and \/32/);
    // Host bits are refused here as in the config and the API (the scanner once widened 127.0.99.5/24 silently).
    expect(codeOf(() => expandTargets(['127.0.99.5/24']))).toMatch(/"127.0.99.5\/24": host bits set, did you mean 127.0.99.0\/24\?/);
    expect(codeOf(() => expandTargets(['10.0.0.0/33']))).toMatch(/AGENT_ERR_SCAN_TARGET_INVALID/);
    expect(codeOf(() => expandTargets(['10.0.0.300/24']))).toMatch(/"10.0.0.300\/24": expected IPv4 CIDR like/);
    expect(codeOf(() => expandTargets(['010.0.0.1']))).toMatch(/AGENT_ERR_SCAN_TARGET_INVALID/);
    expect(codeOf(() => expandTargets(['router.lan']))).toMatch(/AGENT_ERR_SCAN_TARGET_INVALID/);
    expect(codeOf(() => expandTargets([]))).toMatch(/no subnet to scan/);
    expect(codeOf(() => expandTargets(['192.0.2.4/30'], ['192.0.2.0/29']))).toMatch(/leave no address to scan/);
  });

  it('recognises only canonical dotted quads', () => {
    expect(isCanonicalIPv4('127.0.0.1')).toBe(true);
    for (const bad of ['127.0.0.01', '127.1', '0x7f.0.0.1', '::ffff:127.0.0.1', '127.0.0.1 ', '256.1.1.1']) expect(isCanonicalIPv4(bad), bad).toBe(false);
  });
});

describe('parsePortList', () => {
  it('parses ports and ranges into a sorted set', () => {
    expect(parsePortList('443, 22,80,8000-8003,22')).toEqual([22, 80, 443, 8000, 8001, 8002, 8003]);
    expect(parsePortList('1-65535')).toHaveLength(65535);
  });

  it('names what is wrong', () => {
    expect(codeOf(() => parsePortList('22,ssh'))).toMatch(/^AGENT_ERR_SCAN_PORTS_INVALID: "ssh" is not a port or a range/);
    expect(codeOf(() => parsePortList('0'))).toMatch(/ports are 1 to 65535/);
    expect(codeOf(() => parsePortList('70000'))).toMatch(/ports are 1 to 65535/);
    expect(codeOf(() => parsePortList('90-80'))).toMatch(/the range is reversed/);
    expect(codeOf(() => parsePortList(''))).toMatch(/AGENT_ERR_SCAN_PORTS_INVALID/);
  });

  it('has a default list with the MikroTik ports and no duplicates', () => {
    for (const port of [21, 22, 23, 53, 80, 443, 1723, 1900, 2000, 8080, 8291, 8443, 8728, 8729]) expect(DEFAULT_TCP_PORTS).toContain(port);
    expect(new Set(DEFAULT_TCP_PORTS).size).toBe(DEFAULT_TCP_PORTS.length);
    expect([...DEFAULT_TCP_PORTS]).toEqual([...DEFAULT_TCP_PORTS].sort((a, b) => a - b));
  });
});

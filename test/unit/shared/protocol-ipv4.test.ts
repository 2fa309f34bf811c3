import { describe, expect, it } from 'vitest';
import { ipv4, subnet } from '../../../src/protocol/fields.js';
import { isCanonicalIPv4, subnetProblem } from '../../../src/shared/ipv4.js';

describe('protocol subnet field: the kernel subnetProblem rule', () => {
  it.each<[string, boolean]>([
    ['192.168.88.0/24', true],
    ['10.0.4.0/22', true],
    ['10.0.0.7/32', true],
    // Before: the protocol's own regex took all of these.
    ['999.1.1.0/99', false],
    ['10.0.0.5/24', false],
    ['10.0.0.0/8', false],
    ['010.0.0.0/24', false],
    ['10.0.0.7', false],
    ['::1/128', false],
  ])('%s -> %s', (text, ok) => {
    expect(subnet.safeParse(text).success).toBe(ok);
    expect(subnetProblem(text) === undefined).toBe(ok);
  });

  it('names the problem as the config and the API do', () => {
    const parsed = subnet.safeParse('10.0.0.5/24');
    expect(parsed.success ? undefined : parsed.error.issues[0]?.message).toBe('host bits set, did you mean 10.0.0.0/24?');
  });
});

describe('protocol ipv4 field: the kernel isCanonicalIPv4 rule', () => {
  it.each<[string, boolean]>([
    ['192.168.88.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['999.1.1.1', false],
    ['010.0.0.1', false],
    ['10.1', false],
    ['10.0.0.1/32', false],
    ['::1', false],
    [' 10.0.0.1', false],
  ])('%s -> %s', (text, ok) => {
    expect(ipv4.safeParse(text).success).toBe(ok);
    expect(isCanonicalIPv4(text)).toBe(ok);
  });
});

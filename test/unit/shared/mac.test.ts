import { describe, expect, it } from 'vitest';
import { isMulticastMac, isRandomizedMac, MAC_PATTERN, macFromBytes, normalizeMac } from '../../../src/shared/mac.js';

describe('normalizeMac: the one MAC input rule (router inventory, CLI mark, REST API)', () => {
  it.each<[string, string | undefined]>([
    ['4c:5e:0c:12:34:56', '4C:5E:0C:12:34:56'],
    ['4C-5E-0C-12-34-56', '4C:5E:0C:12:34:56'],
    // Before: the CLI and the API refused these three, the router inventory took them.
    ['4c5e.0c12.3456', '4C:5E:0C:12:34:56'],
    ['4C5E0C123456', '4C:5E:0C:12:34:56'],
    ['  4c:5e:0c:12:34:56 ', '4C:5E:0C:12:34:56'],
    // Before: the router inventory and the CLI took mixed separators, the API refused them.
    ['4c:5e-0c:12-34:56', undefined],
    ['4c5e.0c12-3456', undefined],
    ['4c:5e:c:12:34:56', undefined],
    ['4C:5E:0C:12:34', undefined],
    ['4C:5E:0C:12:34:56:78', undefined],
    ['4C5E0C12345', undefined],
    ['GG:5E:0C:12:34:56', undefined],
    ['incomplete', undefined],
    ['', undefined],
  ])('%j -> %s', (input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
    if (expected !== undefined) expect(expected).toMatch(MAC_PATTERN);
  });

  it('reads bytes off the wire in the canonical form (MNDP was lower-case)', () => {
    expect(macFromBytes(Uint8Array.from([0xe4, 0x8d, 0x8c, 0x01, 0x02, 0x03]))).toBe('E4:8D:8C:01:02:03');
  });

  it.each<[string, boolean, boolean]>([
    ['02:00:00:00:00:01', true, false],
    ['DA:A1:19:00:00:01', true, false],
    ['00:0C:29:11:22:33', false, false],
    ['01:00:5E:00:00:01', false, true],
    ['33:33:00:00:00:01', true, true],
  ])('%s: randomized %s, multicast %s', (mac, randomized, multicast) => {
    expect(isRandomizedMac(mac)).toBe(randomized);
    expect(isMulticastMac(mac)).toBe(multicast);
  });
});

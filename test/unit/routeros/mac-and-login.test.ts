import { describe, expect, it } from 'vitest';
import { legacyLoginResponse } from '../../../src/agent/routeros/api/legacy-login.js';
import { isMulticastMac, isRandomizedMac, normalizeMac } from '../../../src/shared/mac.js';

describe('MAC addresses', () => {
  it('normalises the spellings RouterOS and others use, refuses the rest', () => {
    expect(normalizeMac('4c:5e:0c:12:aa:cc')).toBe('4C:5E:0C:12:AA:CC');
    expect(normalizeMac('4C-5E-0C-12-AA-CC')).toBe('4C:5E:0C:12:AA:CC');
    expect(normalizeMac('4c5e.0c12.aacc')).toBe('4C:5E:0C:12:AA:CC');
    expect(normalizeMac('4C:5E:0C:12:AA')).toBeUndefined();
    expect(normalizeMac('incomplete')).toBeUndefined();
  });

  it('flags locally administered and group addresses', () => {
    expect(isRandomizedMac('DA:A1:19:00:00:01')).toBe(true);
    expect(isRandomizedMac('0A:00:27:00:00:00')).toBe(true);
    expect(isRandomizedMac('4C:5E:0C:12:AA:CC')).toBe(false);
    expect(isMulticastMac('33:33:00:00:00:01')).toBe(true);
    expect(isMulticastMac('00:0C:42:28:79:45')).toBe(false);
  });
});

describe('legacy /login', () => {
  it('answers the MikroTik manual challenge with the manual response', () => {
    expect(legacyLoginResponse('', '856780b7411eefd3abadee2058c149a3')).toBe('005062f7a5ef124d34675bf3e81f56c556');
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { legacyLoginResponse } from '../../../src/agent/routeros/api/legacy-login.js';
import { isMulticastMac, isRandomizedMac, normalizeMac } from '../../../src/shared/mac.js';
import { loadOuiRegistry } from '../../../src/agent/routeros/oui-registry.js';

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

  it('names vendors from the IEEE registry, longest block first, and none for random MACs', () => {
    const registry = loadOuiRegistry();
    expect(registry.vendorOf('4C:5E:0C:12:AA:CC')).toBe('Routerboard.com');
    expect(registry.vendorOf('00:0C:42:28:79:45')).toBe('Routerboard.com');
    expect(registry.vendorOf('08:00:27:CE:A3:7E')).toBe('PCS Systemtechnik GmbH');
    // 00:1B:C5 is split into 36-bit (MA-S) blocks and 10:06:48 into 28-bit (MA-M) ones.
    expect(registry.vendorOf('00:1B:C5:00:10:01')).toBe('OpenRB.com, Direct SIA');
    expect(registry.vendorOf('00:1B:C5:00:20:01')).toBe('GORAMO - Janusz Gorecki');
    expect(registry.vendorOf('10:06:48:10:00:01')).toBe('KYTRONICS');
    expect(registry.vendorOf('DA:A1:19:00:00:01')).toBeUndefined();
  });

  it('scans the whole registry file the same way JSON.parse reads it', () => {
    const registry = loadOuiRegistry();
    const parsed = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('oui-data'), 'utf8')) as Record<string, string>;
    expect(registry.size).toBe(Object.keys(parsed).length);
    // Every MA-L block whose first octet is universally administered, compared one by one.
    for (const [prefix, text] of Object.entries(parsed)) {
      if (prefix.length !== 6 || (parseInt(prefix.slice(0, 2), 16) & 0x02) !== 0) continue;
      const mac = `${prefix.match(/../g)?.join(':')}:00:00:00`;
      const longer = Object.prototype.hasOwnProperty.call(parsed, `${prefix}000`) || Object.prototype.hasOwnProperty.call(parsed, `${prefix}0`);
      if (!longer) expect(registry.vendorOf(mac), prefix).toBe(text.split('\n')[0]?.trim());
    }
  });
});

describe('legacy /login', () => {
  it('answers the MikroTik manual challenge with the manual response', () => {
    expect(legacyLoginResponse('', '856780b7411eefd3abadee2058c149a3')).toBe('005062f7a5ef124d34675bf3e81f56c556');
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { VendorLookup } from './mac.js';
import { isRandomizedMac } from '../../shared/mac.js';

/**
 * The IEEE registry from the oui-data package: keys are 6 (MA-L), 7 (MA-M) or 9 (MA-S) hex
 * digits, values the registrant's name and postal address. Only the name is kept. The file
 * (5.6 MB) is scanned rather than JSON.parse'd: the parsed object with every address would
 * cost the daemon some 40 MB of resident memory that V8 does not hand back.
 */
const entry = /"([0-9A-Fa-f]{6,9})":\s*"((?:[^"\\]|\\.)*?)(?:\\n|")/g;

export interface OuiRegistry extends VendorLookup {
  /** Blocks known, for a sanity check of the scan. */
  readonly size: number;
}

export function loadOuiRegistry(file = createRequire(import.meta.url).resolve('oui-data')): OuiRegistry {
  const text = readFileSync(file, 'utf8');
  const names = new Map<string, string>();
  // Big companies hold hundreds of blocks: one string per name, not per block.
  const interned = new Map<string, string>();
  for (const match of text.matchAll(entry)) {
    const raw = match[2] ?? '';
    const name = (raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw).trim();
    if (name === '') continue;
    let shared = interned.get(name);
    if (shared === undefined) {
      shared = name;
      interned.set(name, name);
    }
    names.set((match[1] ?? '').toUpperCase(), shared);
  }
  return {
    size: names.size,
    vendorOf(mac) {
      // A locally administered address was never assigned by the IEEE: any match would be a coincidence.
      if (isRandomizedMac(mac)) return undefined;
      const hex = mac.replace(/:/g, '');
      return names.get(hex.slice(0, 9)) ?? names.get(hex.slice(0, 7)) ?? names.get(hex.slice(0, 6));
    },
  };
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isRandomizedMac, type VendorLookup } from './mac.js';

/**
 * The IEEE registry from the oui-data package: keys are 6 (MA-L), 7 (MA-M) or 9 (MA-S) hex
 * digits, values the registrant's name and address. Only the name is kept, so the parsed
 * file can be collected once the table is built.
 */
export function loadOuiRegistry(file = createRequire(import.meta.url).resolve('oui-data')): VendorLookup {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const names = new Map<string, string>();
  for (const [prefix, entry] of Object.entries(raw)) {
    const name = entry.split('\n', 1)[0]?.trim();
    if (name) names.set(prefix.toUpperCase(), name);
  }
  return {
    vendorOf(mac) {
      // A locally administered address was never assigned by the IEEE: any match would be a coincidence.
      if (isRandomizedMac(mac)) return undefined;
      const hex = mac.replace(/:/g, '');
      return names.get(hex.slice(0, 9)) ?? names.get(hex.slice(0, 7)) ?? names.get(hex.slice(0, 6));
    },
  };
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openOuiTable } from '../../../src/agent/routeros/oui-table.js';
import { isRandomizedMac } from '../../../src/shared/mac.js';
import { apiCaptureFiles, readApiCapture } from '../../simulators/captures.js';

// The registry as the oui-data package ships it: what the table must answer for, block by block.
const registryFile = createRequire(import.meta.url).resolve('oui-data');
const registry = JSON.parse(readFileSync(registryFile, 'utf8')) as Record<string, string>;
const registryVersion = (JSON.parse(readFileSync(new URL('package.json', `file://${registryFile}`), 'utf8')) as { version: string }).version;

/** The registrant of a MAC straight from the JSON: the longest block (MA-S, MA-M, MA-L) holding it. */
function expectedVendor(mac: string): string | undefined {
  if (isRandomizedMac(mac)) return undefined;
  const hex = mac.replace(/:/g, '');
  for (const length of [9, 7, 6]) {
    const entry = registry[hex.slice(0, length)];
    if (entry !== undefined) return entry.split('\n')[0]?.trim();
  }
  return undefined;
}

const macOf = (hex: string) => hex.padEnd(12, '0').match(/../g)?.join(':') ?? '';

describe('the on-disk OUI table', () => {
  const table = openOuiTable();
  afterAll(() => table.close());

  it('names vendors from the IEEE registry, longest block first, and none for random MACs', () => {
    expect(table.vendorOf('4C:5E:0C:12:AA:CC')).toBe('Routerboard.com');
    expect(table.vendorOf('00:0C:42:28:79:45')).toBe('Routerboard.com');
    expect(table.vendorOf('08:00:27:CE:A3:7E')).toBe('PCS Systemtechnik GmbH');
    // 00:1B:C5 is split into 36-bit (MA-S) blocks and 10:06:48 into 28-bit (MA-M) ones.
    expect(table.vendorOf('00:1B:C5:00:10:01')).toBe('OpenRB.com, Direct SIA');
    expect(table.vendorOf('00:1B:C5:00:20:01')).toBe('GORAMO - Janusz Gorecki');
    expect(table.vendorOf('10:06:48:10:00:01')).toBe('KYTRONICS');
    expect(table.vendorOf('DA:A1:19:00:00:01')).toBeUndefined();
  });

  it('is built from the installed registry and holds every block of it', () => {
    expect(table.source).toBe(`oui-data@${registryVersion}`);
    expect(table.size).toBe(Object.keys(registry).length);
  });

  it('gives the registry answer for every block and for the MACs of the real router captures', () => {
    const macs = Object.keys(registry).map((prefix) => macOf(prefix.toUpperCase()));
    const captured = apiCaptureFiles().flatMap((file) => readApiCapture(file).rows.flatMap((row) => (row['mac-address'] ? [row['mac-address']] : [])));
    expect(captured.length).toBeGreaterThan(0);
    const mismatches = [...macs, ...captured].filter((mac) => table.vendorOf(mac) !== expectedVendor(mac));
    expect(mismatches).toEqual([]);
  });

  it('keeps the registry off the heap: opening the table and 10,000 lookups grow it by under 2 MB', () => {
    // A child with --expose-gc, on the built module (what ships): the heap map it replaces held some 15 MB.
    const built = fileURLToPath(new URL('../../../dist/agent/routeros/oui-table.js', import.meta.url));
    const script = `
      const { openOuiTable } = await import(${JSON.stringify(built)});
      const used = () => { gc(); return process.memoryUsage().heapUsed; };
      const before = used();
      const table = openOuiTable();
      let named = 0;
      for (let i = 0; i < 10000; i++) if (table.vendorOf('4C:5E:0C:' + (i % 256).toString(16).padStart(2, '0').toUpperCase() + ':00:01')) named++;
      const after = used();
      table.close();
      console.log(JSON.stringify({ grownMb: (after - before) / 1048576, named }));
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { grownMb, named } = JSON.parse(out) as { grownMb: number; named: number };
    expect(named).toBe(10000);
    expect(grownMb).toBeLessThan(2);
  });
});

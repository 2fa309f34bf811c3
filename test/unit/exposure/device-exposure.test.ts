import { describe, expect, it } from 'vitest';
import { exposureLookup, isRouterAddress, missingMenusReason } from '../../../src/agent/pipeline/exposure-facts.js';
import { exposureConfigFrom, exposureOf } from '../../../src/agent/routeros/exposure.js';
import type { Inventory } from '../../../src/agent/routeros/index.js';
import { parseRecords } from '../../../src/agent/routeros/records.js';
import { menus, type MenuName, type RouterTables } from '../../../src/agent/routeros/tables.js';
import { readApiCapture } from '../../simulators/index.js';

/** The simulator's exposure menus (written-for-simulator captures): *2 forwards WAN tcp/2222 to 192.168.88.10:22, winbox open to WAN, UPnP on. */
function tables(upnp: boolean): RouterTables {
  const empty = Object.fromEntries(Object.keys(menus).map((name) => [name, []])) as unknown as RouterTables;
  const rows = (file: string) => readApiCapture(`api.${file}.v7.written-for-simulator.json`).rows;
  return {
    ...empty,
    nat: rows('ip-firewall-nat-print'),
    filter: rows('ip-firewall-filter-print'),
    services: rows('ip-service-print'),
    upnp: rows('ip-upnp-print').map((row) => ({ ...row, enabled: String(upnp) })),
    interfaceListMembers: rows('interface-list-member-print'),
  };
}

const config = (upnp: boolean, missing: MenuName[] = []) => exposureConfigFrom(parseRecords(tables(upnp)).records, missing);

describe('exposure of a whole device (a RouterOS version judged without a port)', () => {
  it('counts any forward to the device, whatever its port', () => {
    expect(exposureOf(config(false), { address: '192.168.88.10', port: null, protocol: null, isRouter: false }).exposure).toEqual([
      { kind: 'dstnat', detail: 'forwarded from WAN tcp/2222 by dstnat rule *2' },
    ]);
    expect(exposureOf(config(false), { address: '192.168.88.77', port: null, protocol: null, isRouter: false })).toEqual({
      known: true,
      missing: [],
      exposure: [],
    });
    expect(exposureOf(config(true), { address: '192.168.88.77', port: null, protocol: null, isRouter: false }).exposure.map((e) => e.kind)).toEqual(['upnp']);
  });

  it("counts any of the router's own services open to the WAN", () => {
    expect(exposureOf(config(false), { address: '192.168.88.1', port: null, protocol: null, isRouter: true }).exposure).toEqual([
      { kind: 'router-service', detail: 'router service winbox (tcp/8291) open to WAN: no address restriction, accepted by input rule *4' },
    ]);
  });
});

describe('the exposure a finding stores', () => {
  const inventory = (exposure: Inventory['exposure']) =>
    ({ addresses: [{ address: '192.168.88.1/24', network: '192.168.88.0/24', interface: 'bridge' }], exposure }) as unknown as Inventory;

  it('is yes with the reasons, no, or unknown with why', () => {
    const forwarded = exposureLookup(inventory(config(false)), '192.168.88.10', false);
    expect(forwarded({ port: 22, protocol: 'tcp' })).toEqual({
      state: 'yes',
      reasons: [{ kind: 'dstnat', detail: 'forwarded from WAN tcp/2222 by dstnat rule *2' }],
      unknown_reason: null,
    });
    expect(forwarded({ port: 80, protocol: 'tcp' })).toEqual({ state: 'no', reasons: [], unknown_reason: null });
    expect(exposureLookup(undefined, '192.168.88.10', false)({ port: 22, protocol: 'tcp' })).toEqual({
      state: 'unknown',
      reasons: [],
      unknown_reason: 'the router was not read',
    });
    expect(exposureLookup(inventory(undefined), '192.168.88.10', false)({ port: 22, protocol: 'tcp' }).unknown_reason).toBe(
      'the router read had no exposure menus',
    );
    // Without the filter menu a router service's exposure is not known; a forward is still a forward.
    const routerNoFilter = exposureLookup(inventory(config(false, ['filter'])), '192.168.88.1', true);
    expect(routerNoFilter({ port: 8291, protocol: 'tcp' })).toEqual({ state: 'unknown', reasons: [], unknown_reason: 'no filter menu from the router' });
    expect(exposureLookup(inventory(config(false, ['filter'])), '192.168.88.10', false)({ port: 22, protocol: 'tcp' })).toMatchObject({ state: 'yes' });
    expect(missingMenusReason(['nat', 'filter', 'services', 'upnp', 'interfaceListMembers'])).toBe(
      'no NAT/filter/service/UPnP/interface-list menus from the router',
    );
  });

  it("knows the router's own addresses", () => {
    expect(isRouterAddress(inventory(undefined), '192.168.88.1')).toBe(true);
    expect(isRouterAddress(inventory(undefined), '192.168.88.10')).toBe(false);
    expect(isRouterAddress(undefined, '192.168.88.1')).toBe(false);
  });
});

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiReader } from '../../../src/agent/routeros/api/api-reader.js';
import { exposureConfigFrom, exposureOf, type ExposureTarget } from '../../../src/agent/routeros/exposure.js';
import { parseRecords } from '../../../src/agent/routeros/records.js';
import { createSshReader } from '../../../src/agent/routeros/ssh/ssh-reader.js';
import type { TableReader } from '../../../src/agent/routeros/table-reader.js';
import { prioritise } from '../../../src/cve/priority.js';
import { startApiSimulator, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator, type RunningSshSimulator } from '../../simulators/routeros-ssh/server.js';
import { routerFromCaptures, type RouterData } from '../../simulators/router-data.js';

const logger = pino({ level: 'silent' });
const host = '127.0.64.1';
const credentials = { user: 'admin', password: 'secret', timeoutMs: 5000 };

/** The simulator's router: its exposure menus are the written-for-simulator fixtures (NAT, filter, services, UPnP, WAN list). */
const data = routerFromCaptures();

let api: RunningApiSimulator;
let ssh: RunningSshSimulator;
beforeAll(async () => {
  api = await startApiSimulator({ data, host });
  ssh = await startSshSimulator({ data, host });
});
afterAll(async () => {
  await api.stop();
  await ssh.stop();
});

const apiReader = (port: number): TableReader => createApiReader({ client: { ...credentials, target: { host, port, transport: 'api' } }, logger });
const sshReader = (port: number): TableReader =>
  createSshReader({ client: { ...credentials, target: { host, port, transport: 'ssh' }, verifyHostKey: () => undefined }, logger });

async function configOver(reader: TableReader) {
  const read = await reader.read(AbortSignal.timeout(20_000));
  const { records, rejected } = parseRecords(read.tables);
  expect(rejected).toEqual([]);
  return exposureConfigFrom(records, read.missingMenus);
}

const nas: ExposureTarget = { address: '192.168.88.10', port: 22, protocol: 'tcp', isRouter: false };
const web: ExposureTarget = { address: '192.168.88.20', port: 80, protocol: 'tcp', isRouter: false };
const winbox: ExposureTarget = { address: '192.168.88.1', port: 8291, protocol: 'tcp', isRouter: true };
const routerSsh: ExposureTarget = { address: '192.168.88.1', port: 22, protocol: 'tcp', isRouter: true };
const routerWww: ExposureTarget = { address: '192.168.88.1', port: 80, protocol: 'tcp', isRouter: true };

describe('exposure read from the simulated router', () => {
  it.each([
    ['api', () => apiReader(api.port), '*2', '*4'],
    ['ssh', () => sshReader(ssh.port), '#1', '#3'],
  ] as const)('over %s: a NAT-forwarded service, an open winbox on the WAN list, UPnP on', async (_transport, reader, natRule, inputRule) => {
    const config = await configOver(reader());
    // The forward of WAN tcp/2222 to the NAS's ssh, and UPnP (any LAN host may open ports).
    expect(exposureOf(config, nas)).toEqual({
      known: true,
      missing: [],
      exposure: [
        { kind: 'dstnat', detail: `forwarded from WAN tcp/2222 by dstnat rule ${natRule}` },
        { kind: 'upnp', detail: 'UPnP enabled on the router: any LAN host may open WAN ports' },
      ],
    });
    // Port 80 of the web host is forwarded only by a disabled rule: UPnP is its only exposure.
    expect(exposureOf(config, web).exposure.map((e) => e.kind)).toEqual(['upnp']);
    // winbox has no address list and an input rule accepts it from WAN before the final drop.
    expect(exposureOf(config, winbox).exposure).toEqual([
      { kind: 'router-service', detail: `router service winbox (tcp/8291) open to WAN: no address restriction, accepted by input rule ${inputRule}` },
    ]);
    // ssh is enabled and unrestricted, but "drop all not coming from LAN" stops it; www is limited to the LAN.
    expect(exposureOf(config, routerSsh).exposure).toEqual([]);
    expect(exposureOf(config, routerWww).exposure).toEqual([]);
  });

  it('a router that lacks the menus (older RouterOS, no permission) gives unknown exposure, not an error', async () => {
    const menus = { ...data.menus };
    for (const menu of ['/ip/firewall/nat', '/ip/firewall/filter', '/ip/service', '/ip/upnp', '/interface/list/member']) delete menus[menu];
    const console = Object.fromEntries(Object.entries(data.console).filter(([command]) => !/^\/ip (service|firewall)/.test(command)));
    const bare: RouterData = { ...data, menus, console };
    const oldApi = await startApiSimulator({ data: bare, host });
    const oldSsh = await startSshSimulator({ data: bare, host });
    try {
      for (const reader of [apiReader(oldApi.port), sshReader(oldSsh.port)]) {
        const config = await configOver(reader);
        expect(exposureOf(config, nas)).toEqual({ known: false, missing: ['nat', 'filter', 'services', 'upnp', 'interfaceListMembers'], exposure: [] });
      }
    } finally {
      await oldApi.stop();
      await oldSsh.stop();
    }
  });

  it('orders the findings fix-first: the exposed KEV finding above a higher-CVSS unexposed one, with why lines', async () => {
    const config = await configOver(apiReader(api.port));
    const findings = prioritise([
      {
        cve_id: 'CVE-2024-0002',
        score: 10,
        kev: null,
        epss: { score: 0.02, percentile: 0.8, date: '2024-01-13' },
        exposure: exposureOf(config, routerSsh).exposure,
      },
      {
        cve_id: 'CVE-2018-14847',
        score: 9.1,
        kev: { date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false },
        epss: { score: 0.97473, percentile: 0.99963, date: '2024-01-13' },
        exposure: exposureOf(config, winbox).exposure,
      },
    ]);
    expect(findings.map((f) => [f.cve_id, f.priority.rank])).toEqual([
      ['CVE-2018-14847', 1],
      ['CVE-2024-0002', 2],
    ]);
    expect(findings[0]?.priority.why).toEqual([
      'KEV since 2021-12-01',
      'router service winbox (tcp/8291) open to WAN: no address restriction, accepted by input rule *4',
      'EPSS 0.97 (99th pct)',
      'CVSS 9.1',
    ]);
    expect(findings[1]?.priority.why).toEqual(['EPSS 0.02 (80th pct)', 'CVSS 10.0']);
  });
});

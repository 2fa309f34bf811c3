import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { AgentError } from '../../errors.js';
import { menus, optionalMenus, type MenuName } from '../tables.js';
import { tablesAndSink, type ReadResult, type RowSink, type TableReader } from '../table-reader.js';
import { RouterOsApiClient, type ApiClientOptions } from './api-client.js';

/** Only what the inventory uses travels: on a site with 5,000 leases this halves the bytes. */
export const proplists: Record<MenuName, readonly string[]> = {
  resource: ['version', 'uptime', 'board-name', 'architecture-name', 'platform', 'cpu', 'build-time'],
  identity: ['name'],
  routerboard: ['routerboard', 'model', 'board-name', 'serial-number', 'current-firmware', 'firmware-type'],
  addresses: ['address', 'network', 'interface', 'actual-interface', 'disabled', 'invalid', 'dynamic'],
  arp: ['address', 'mac-address', 'interface', 'dynamic', 'complete', 'invalid', 'disabled', 'status', 'published'],
  leases: ['address', 'active-address', 'mac-address', 'active-mac-address', 'host-name', 'status', 'last-seen', 'server', 'dynamic', 'disabled', 'blocked'],
  bridgeHosts: ['mac-address', 'interface', 'on-interface', 'bridge', 'local', 'age', 'invalid', 'disabled', 'vid', 'external'],
  neighbors: ['interface', 'address', 'address4', 'address6', 'mac-address', 'identity', 'platform', 'version', 'board', 'age', 'system-description'],
  ipv6Neighbors: ['address', 'interface', 'mac-address', 'status', 'router'],
  nat: ['.id', 'chain', 'action', 'protocol', 'dst-port', 'to-addresses', 'to-ports', 'in-interface', 'in-interface-list', 'disabled', 'invalid', 'dynamic'],
  filter: [
    '.id',
    'chain',
    'action',
    'protocol',
    'dst-port',
    'connection-state',
    'src-address',
    'src-address-list',
    'in-interface',
    'in-interface-list',
    'disabled',
    'invalid',
    'dynamic',
  ],
  services: ['.id', 'name', 'port', 'address', 'disabled', 'invalid'],
  upnp: ['enabled', 'allow-disable-external-interface', 'show-dummy-rule'],
  interfaceListMembers: ['.id', 'list', 'interface', 'disabled', 'dynamic'],
};

export interface ApiReaderDeps {
  client: Omit<ApiClientOptions, 'logger'>;
  logger: Logger;
  /** Tests swap the session (an unpatched library, say); the default is RouterOsApiClient. */
  openSession?: (options: ApiClientOptions) => RouterOsApiClient;
}

/** Reads every menu over one API session; the prints run concurrently, told apart by tag. */
export function createApiReader(deps: ApiReaderDeps): TableReader {
  const open = deps.openSession ?? ((options) => new RouterOsApiClient(options));
  return {
    transport: deps.client.target.transport,
    async read(callerSignal: AbortSignal, sink?: RowSink): Promise<ReadResult> {
      // The read's own signal: each concurrent print listens on it (more than Node's default of
      // 10), and the caller's limit (0, unlimited, in a scan) is left as it is.
      const signal = AbortSignal.any([callerSignal]);
      const client = open({ ...deps.client, logger: deps.logger });
      const warnings: string[] = [];
      const missingMenus: MenuName[] = [];
      const { tables, put } = tablesAndSink(sink);
      try {
        await client.connect(signal);
        const names = Object.keys(menus) as MenuName[];
        setMaxListeners(names.length + 4, signal);
        await Promise.all(
          names.map(async (name): Promise<void> => {
            try {
              await client.print(menus[name], signal, proplists[name], (row) => put(name, row));
            } catch (error) {
              if (optionalMenus.has(name) && error instanceof AgentError && error.code === 'AGENT_ERR_ROUTER_TRAP') {
                warnings.push(`${menus[name]}: ${error.details[0] ?? error.message}; table left empty`);
                missingMenus.push(name);
                return;
              }
              throw error;
            }
          }),
        );
        return { tables, warnings, missingMenus, readAt: new Date().toISOString() };
      } finally {
        client.close();
      }
    },
  };
}

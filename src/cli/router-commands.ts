import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig, type AgentConfig, type RouterSettings } from '../agent/config/load.js';
import { routerOsCpe, serviceCpe } from '../agent/cve/services.js';
import { AgentError } from '../agent/errors.js';
import type { Inventory, RouterCheck } from '../agent/routeros/index.js';
import { openStore } from '../agent/store/database.js';
import { parseRouterOsVersion } from '../shared/routeros-version.js';
import { createCliLogger } from './cli-logger.js';
import { renderTable } from './table.js';

// The router module (ssh2, node-routeros, the OUI registry) loads when a router command runs,
// so `cve-agent run` and the other commands start without it.
const routeros = () => import('../agent/routeros/index.js');

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

function routerConfig(program: Command): { config: AgentConfig; router: RouterSettings; options: GlobalOptions } {
  const options = program.opts<GlobalOptions>();
  const loaded = loadConfig(options.config, { dataDir: options.dataDir });
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
  const router = loaded.config.router;
  if (router === undefined) {
    throw new AgentError('AGENT_ERR_ROUTER_NOT_CONFIGURED', `${loaded.config.source ?? '(embedded defaults)'} has no router: block; see config.example.yaml`);
  }
  return { config: loaded.config, router, options };
}

/** Ctrl-C stops a read within a moment instead of waiting for the router's timeout. */
function interruptible(): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort(new AgentError('AGENT_ERR_ROUTER_CLOSED', 'interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    done() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

function printCheck(check: RouterCheck): void {
  const rows: [string, string][] = [
    ['identity', check.identity ?? '-'],
    ['version', check.channel === null ? check.version : `${check.version} (${check.channel})`],
    ['board', check.board ?? '-'],
    ['arp', String(check.counts.arp)],
    ['leases', String(check.counts.leases)],
    ['bridge hosts', String(check.counts.bridgeHosts)],
    ['neighbors', String(check.counts.neighbors)],
    ['ipv6 neighbors', String(check.counts.ipv6Neighbors)],
    ['addresses', String(check.counts.addresses)],
  ];
  process.stdout.write(`router ${check.target} (${check.transport}): ok\n`);
  for (const [key, value] of rows) process.stdout.write(`  ${key.padEnd(15)}${value}\n`);
  for (const warning of check.warnings) process.stdout.write(`  warning: ${warning}\n`);
}

/** The CPE cve/ names a RouterOS neighbor by; '-' for other platforms or an unreadable version. */
function neighborCpe(neighbor: Inventory['neighbors'][number]): string {
  const release = neighbor.platform === 'MikroTik' ? parseRouterOsVersion(neighbor.version ?? undefined) : undefined;
  return release === undefined ? '-' : routerOsCpe(release);
}

function printInventory(inventory: Inventory): void {
  const { router } = inventory;
  const cpe = serviceCpe({ product: 'RouterOS', version: router.version, channel: router.channel ?? undefined }) ?? '-';
  process.stdout.write(
    `router ${router.identity ?? '-'}: RouterOS ${router.version}${router.channel ? ` (${router.channel})` : ''} on ${router.board ?? '-'}, ${cpe}\n\n`,
  );
  process.stdout.write(
    renderTable(
      ['IP', 'MAC', 'VENDOR', 'HOSTNAME', 'INTERFACE', 'SOURCES', 'LAST SEEN'],
      inventory.hosts.map((host) => [
        host.ips.join(',') || '-',
        host.randomized_mac ? `${host.mac} (random)` : host.mac,
        host.vendor ?? '-',
        host.hostnames.join(',') || '-',
        host.interfaces.join(',') || '-',
        [...new Set(host.sources.map((source) => source.table))].join(','),
        host.last_seen,
      ]),
    ),
  );
  if (inventory.neighbors.length > 0) {
    process.stdout.write('\n');
    process.stdout.write(
      renderTable(
        ['NEIGHBOR', 'ADDRESS', 'MAC', 'VERSION', 'BOARD', 'CPE'],
        inventory.neighbors.map((n) => [n.identity ?? '-', n.address ?? '-', n.mac ?? '-', n.version ?? '-', n.board ?? '-', neighborCpe(n)]),
      ),
    );
  }
  process.stdout.write(
    `\n${inventory.hosts.length} hosts, ${inventory.neighbors.length} neighbors, networks ${inventory.addresses.map((a) => a.network).join(', ') || '-'} (read over ${inventory.transport})\n`,
  );
  for (const warning of inventory.warnings) process.stdout.write(`warning: ${warning}\n`);
}

/** `cve-agent router check` and `cve-agent router inventory`. */
export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description('the site router: connection check and merged inventory');
  router
    .command('check')
    .description('connect with the configured settings and print the version, identity and table sizes, or why it could not')
    .action(async () => {
      const { router: settings, options } = routerConfig(program);
      const logger = pino({ level: 'silent' });
      const { createRouterSource } = await routeros();
      const source = createRouterSource({ settings, logger, vendors: { vendorOf: () => undefined } });
      const run = interruptible();
      try {
        const check = await source.check(run.signal);
        if (options.json) process.stdout.write(`${JSON.stringify(check, null, 2)}\n`);
        else printCheck(check);
      } finally {
        run.done();
      }
    });
  router
    .command('inventory')
    .description('read the router and print every host by MAC, its neighbors and its networks')
    .action(async () => {
      const { config, router: settings, options } = routerConfig(program);
      const logger = createCliLogger('cve-agent');
      const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
      const run = interruptible();
      try {
        const { createRouterSource, InventoryRepository, loadOuiRegistry } = await routeros();
        const source = createRouterSource({
          settings,
          logger,
          vendors: loadOuiRegistry(),
          history: new InventoryRepository(store.db),
          retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        });
        const inventory = await source.readInventory(run.signal);
        if (options.json) process.stdout.write(`${JSON.stringify(inventory, null, 2)}\n`);
        else printInventory(inventory);
      } finally {
        run.done();
        store.close();
      }
    });
}

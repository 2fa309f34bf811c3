import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig, type AgentConfig, type RouterSettings } from '../agent/config/load.js';
import { routerOsCpe, serviceCpe } from '../cve/services.js';
import { AgentError } from '../agent/errors.js';
import type { Inventory, OuiTable, PresentedIdentity, RouterCheck, RouterPins } from '../agent/routeros/index.js';
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

/** The pins in agent.db; `router check` logs nothing, so a fingerprint learned on first use is said on stderr. */
function announcingPins(pins: RouterPins): RouterPins {
  return {
    get: (key) => pins.get(key),
    set(key, fingerprint) {
      pins.set(key, fingerprint);
      process.stderr.write(`warning: router ${key.host}:${key.port} (${key.transport}): first use, pinned ${fingerprint}\n`);
    },
  };
}

const describeEndpoint = (identity: PresentedIdentity) => `router ${identity.host}:${identity.port} (${identity.transport})`;

/** One endpoint's fingerprints, for people. */
function printIdentity(identity: PresentedIdentity): void {
  const what = identity.transport === 'ssh' ? 'SSH host key' : 'TLS certificate';
  process.stdout.write(`${describeEndpoint(identity)} ${what}\n`);
  const presented = identity.error ?? identity.presented ?? '(no certificate)';
  process.stdout.write(`  presented   ${identity.error === null ? presented : `(not asked: ${presented})`}\n`);
  if (identity.configured !== null) process.stdout.write(`  configured  ${identity.configured}\n`);
  process.stdout.write(`  stored      ${identity.stored === null ? '-' : `${identity.stored.fingerprint} (pinned ${identity.stored.pinned_at})`}\n`);
}

/** `cve-agent router check`, `cve-agent router inventory` and `cve-agent router trust`. */
export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description('the site router: connection check and merged inventory');
  router
    .command('check')
    .description('connect with the configured settings and print the version, identity and table sizes, or why it could not')
    .action(async () => {
      const { config, router: settings, options } = routerConfig(program);
      const logger = pino({ level: 'silent' });
      const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
      const run = interruptible();
      try {
        const { createRouterSource, RouterPinRepository } = await routeros();
        const pins = announcingPins(new RouterPinRepository(store.db));
        const source = createRouterSource({ settings, logger, vendors: { vendorOf: () => undefined }, pins });
        const check = await source.check(run.signal);
        if (options.json) process.stdout.write(`${JSON.stringify(check, null, 2)}\n`);
        else printCheck(check);
      } finally {
        run.done();
        store.close();
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
      let vendors: OuiTable | undefined;
      try {
        const { createRouterSource, InventoryRepository, openOuiTable, RouterPinRepository } = await routeros();
        vendors = openOuiTable();
        const source = createRouterSource({
          settings,
          logger,
          vendors,
          history: new InventoryRepository(store.db),
          pins: new RouterPinRepository(store.db),
          retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        });
        const inventory = await source.readInventory(run.signal);
        if (options.json) process.stdout.write(`${JSON.stringify(inventory, null, 2)}\n`);
        else printInventory(inventory);
      } finally {
        run.done();
        vendors?.close();
        store.close();
      }
    });
  router
    .command('trust')
    .description('show the SSH host key and TLS certificate fingerprints the router presents beside the pinned ones (no login); --yes pins the presented ones')
    .option('--yes', 'replace the fingerprints stored in agent.db with the ones presented now (after a deliberate re-key)')
    .action(async (commandOptions: { yes?: boolean }) => {
      const { config, router: settings, options } = routerConfig(program);
      const logger = pino({ level: 'warn' }, pino.destination(2));
      const { presentedIdentities, RouterPinRepository } = await routeros();
      const store = openStore({ stateDir: config.state_dir, logger, exclusive: false });
      const run = interruptible();
      try {
        if (settings.transport === 'api' && !settings.ssh_fallback) {
          process.stdout.write(`router ${settings.host}:${settings.port} (api): plain API has no key or certificate to pin; use api-ssl or ssh\n`);
          return;
        }
        const pins = new RouterPinRepository(store.db);
        const identities = await presentedIdentities(settings, pins, logger, run.signal);
        // A configured pin wins over agent.db: storing beside it would change nothing.
        const changed = identities.filter(
          (identity) => identity.configured === null && identity.presented !== null && identity.presented !== identity.stored?.fingerprint,
        );
        const configuredMismatch = identities.filter(
          (identity) => identity.configured !== null && identity.presented !== null && identity.presented !== identity.configured,
        );
        if (commandOptions.yes) {
          for (const identity of changed) pins.set(identity, identity.presented as string);
        }
        if (options.json) {
          const after = identities.map((identity) => ({ ...identity, stored: pins.get(identity) ?? null }));
          process.stdout.write(`${JSON.stringify(after, null, 2)}\n`);
        } else {
          for (const identity of identities) {
            printIdentity(identity);
            const accepted = commandOptions.yes && changed.includes(identity);
            if (accepted) process.stdout.write(`  pinned      ${identity.presented} (stored in agent.db)\n`);
            else if (changed.includes(identity))
              process.stdout.write(`  differs from the stored pin; run \`cve-agent router trust --yes\` to pin the presented one\n`);
            else if (identity.presented === null) continue;
            else if (identity.configured === null) process.stdout.write('  matches the stored pin\n');
            else if (identity.presented === identity.configured) process.stdout.write('  matches the configured pin\n');
            else process.stdout.write('  differs from the configured pin, which wins; edit the config to change it\n');
          }
        }
        if (configuredMismatch.length > 0) {
          const names = configuredMismatch.map((identity) => (identity.transport === 'ssh' ? 'router.ssh_host_key_fingerprint' : 'router.tls_fingerprint'));
          throw new AgentError(
            'AGENT_ERR_ROUTER_IDENTITY',
            `the config pins a fingerprint the router does not present (a configured pin wins over agent.db): edit ${names.join(' and ')} in ${config.source ?? 'the config'}`,
          );
        }
        const failed = identities.find((identity) => identity.error !== null);
        if (failed !== undefined && identities.every((identity) => identity.error !== null)) {
          throw new AgentError('AGENT_ERR_ROUTER_UNREACHABLE', failed.error ?? 'unreachable');
        }
      } finally {
        run.done();
        store.close();
      }
    });
}

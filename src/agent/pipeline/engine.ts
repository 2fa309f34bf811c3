import type { Logger } from 'pino';
import type { AgentConfig } from '../config/load.js';
import { createCveMatcher } from '../../cve/matcher.js';
import { createDistroStatusLookup } from '../../cve/distro/status-rows.js';
import { openCveDatabase } from '../cve/cve-database.js';
import { cveDataStatus } from '../../cve/freshness.js';
import { intelLookup } from '../../cve/intel.js';
import { createRouterSource, InventoryRepository, openOuiTable, RouterPinRepository } from '../routeros/index.js';
import type { Clock } from '../../shared/clock.js';
import type { Db } from '../../shared/sqlite.js';
import { createScanRunner, type ScanRunnerDeps } from './runner/run.js';
import { ScanRepository } from './scan-repository.js';
import type { ScanEngine } from './scans.js';

/** What a test or the CLI may set in place of the config's: the router reader, CVE lookup, ports and scanner settings. */
export type EngineOverrides = Partial<
  Pick<ScanRunnerDeps, 'readInventory' | 'cve' | 'scanSettings' | 'ports' | 'udp' | 'routerLoad' | 'rateClock' | 'watchRate'>
>;

/**
 * Wires the runner to the real parts: cve.db (with the starter feed on first use), the router
 * over the API or SSH, the on-disk OUI table. Loaded on the first run, so an idle daemon does not
 * carry the scanner, the matcher and the OUI table in memory.
 */
export function openScanEngine(deps: { config: AgentConfig; db: Db; logger: Logger; clock: Clock; overrides?: EngineOverrides }): ScanEngine {
  const { config, logger } = deps;
  const cveDb = openCveDatabase({ stateDir: config.state_dir, logger, loadStarterFeed: true });
  const router = config.router;
  const vendors = router ? openOuiTable() : undefined;
  const source =
    router && vendors
      ? createRouterSource({
          settings: router,
          logger,
          vendors,
          history: new InventoryRepository(deps.db),
          pins: new RouterPinRepository(deps.db),
        })
      : undefined;
  const load = config.scan.router_load;
  const runner = createScanRunner({
    scans: new ScanRepository(deps.db),
    clock: deps.clock,
    logger,
    readInventory: source?.readInventory,
    routerLoad:
      source && load.enabled
        ? {
            open: () => source.openLoadReader(),
            settings: { ceilingPercent: load.ceiling_percent, intervalMs: load.check_every, minConnectsPerSecond: load.min_connects_per_second },
          }
        : undefined,
    cve: {
      matcher: createCveMatcher(cveDb.store, createDistroStatusLookup(cveDb.db)),
      vendorsOfProduct: cveDb.store.vendorsOfProduct,
      // KEV and EPSS as cve.db holds them at match time (loaded by the feed, or by hand).
      intel: intelLookup(cveDb.db),
    },
    routerHost: router?.host,
    cveData: () => {
      const { newest_record, data_as_of, age_days, stale, max_age_days, cves, warning } = cveDataStatus(cveDb.store, deps.clock.now(), config.feed.stale_after);
      return { cves, newest_record, data_as_of, age_days, stale, max_age_days, warning };
    },
    ports: config.scan.ports,
    udp: config.scan.udp,
    scanSettings: {
      snmpCommunity: config.scan.snmp_community,
      globalConcurrency: config.scan.max_connections,
      connectsPerSecond: config.scan.connects_per_second,
    },
    // Only what was given overrides the config: an absent flag leaves the site's setting in force.
    ...Object.fromEntries(Object.entries(deps.overrides ?? {}).filter(([, value]) => value !== undefined)),
  });
  return {
    run: runner.run,
    close: () => {
      vendors?.close();
      cveDb.close();
    },
  };
}

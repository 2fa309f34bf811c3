import type { Logger } from 'pino';
import type { AgentConfig } from '../config/load.js';
import { createCveMatcher } from '../cve/matcher.js';
import { openCveDatabase } from '../cve/cve-database.js';
import { createRouterSource, InventoryRepository, loadOuiRegistry, RouterPinRepository } from '../routeros/index.js';
import type { Clock } from '../../shared/clock.js';
import type { Db } from '../../shared/sqlite.js';
import { createSiteScans, type SiteScans, type SiteScansDeps } from './site-scans.js';

export interface OpenedSiteScans {
  siteScans: SiteScans;
  close(): void;
}

/**
 * Wires the pipeline to the real parts: cve.db (with the starter feed on first use), the
 * router over the API or SSH, the OUI registry. Loaded on first use, so an idle daemon does
 * not carry the scanner, the matcher and the OUI table in memory.
 */
export function openSiteScans(deps: {
  config: AgentConfig;
  db: Db;
  logger: Logger;
  clock: Clock;
  siteId: string;
  overrides?: Partial<SiteScansDeps>;
}): OpenedSiteScans {
  const { config, logger } = deps;
  const cveDb = openCveDatabase({ stateDir: config.state_dir, logger, loadStarterFeed: true });
  const router = config.router;
  const readInventory = router
    ? createRouterSource({
        settings: router,
        logger,
        vendors: loadOuiRegistry(),
        history: new InventoryRepository(deps.db),
        pins: new RouterPinRepository(deps.db),
      }).readInventory
    : undefined;
  const siteScans = createSiteScans({
    db: deps.db,
    clock: deps.clock,
    logger,
    siteId: deps.siteId,
    readInventory,
    cve: { matcher: createCveMatcher(cveDb.store), vendorsOfProduct: cveDb.store.vendorsOfProduct },
    ports: config.scan.ports,
    udp: config.scan.udp,
    resumeWithinMs: config.scan.resume_within,
    scanSettings: {
      snmpCommunity: config.scan.snmp_community,
      globalConcurrency: config.scan.max_connections,
      connectsPerSecond: config.scan.connects_per_second,
    },
    ...deps.overrides,
  });
  return { siteScans, close: () => cveDb.close() };
}

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { CveStore } from './cve-store.js';
import { importFeedBytes, type ImportCounts } from './import.js';
import { metaKeys } from './update.js';

/**
 * The starter feed shipped with the agent: real NVD records (public domain) for the services
 * a MikroTik site runs, so a new site and the demo find real CVEs before the first update.
 * Same path from src/cve (tests) and dist/cve (the package).
 */
export const starterFeedFile = fileURLToPath(new URL('../../data/feed/starter-feed.json.gz', import.meta.url));

/**
 * Imports the starter feed into an empty database (nothing imported, nothing updated). Returns
 * the counts, or undefined when the database already has data or the file is not installed.
 */
export function ensureStarterFeed(store: CveStore, logger: Logger, file = starterFeedFile): ImportCounts | undefined {
  if (!store.isEmpty() || store.getMeta(metaKeys.dataAsOf) !== undefined || store.getMeta('last_import') !== undefined) return undefined;
  if (!existsSync(file)) {
    logger.warn({ file }, 'starter CVE feed not installed; run cve-agent feed update or feed import');
    return undefined;
  }
  const counts = importFeedBytes(store, readFileSync(file), { source: 'starter feed', logger });
  logger.info({ file, ...counts }, 'imported the starter CVE feed');
  return counts;
}

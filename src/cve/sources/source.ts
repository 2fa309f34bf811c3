import type { Logger } from 'pino';
import type { Db } from '../../shared/sqlite.js';
import type { WaitingClock } from '../rate-limiter.js';

/**
 * One source of CVE intelligence (NVD, KEV, EPSS, a distribution tracker, MikroTik's release
 * channels). The control plane's feed hub runs every source on its schedule; a standalone agent
 * runs them itself. A run brings the source's tables in a cve.db up to date and is all or
 * nothing: what it fetched is applied in one transaction, or (NVD, which pages) page by page
 * with a resume cursor stored in the same transaction as the page, so a kill or a fault never
 * leaves half of a page or half of a catalog behind.
 */
export const sourceNames = ['nvd', 'kev', 'epss', 'debian', 'ubuntu', 'routeros'] as const;
export type SourceName = (typeof sourceNames)[number];

export interface SourceContext {
  logger: Logger;
  clock: WaitingClock;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  signal?: AbortSignal | undefined;
  /**
   * The feed hub's keeper of raw NVD records (a delta carries them as NVD published them). The
   * NVD source calls it inside each page's transaction, so a record and its raw JSON commit together.
   */
  keepRawRecords?: (records: readonly { id: string; lastModified: string }[]) => void;
}

export interface SourceRunResult {
  source: SourceName;
  /** Rows inserted, changed or removed; 0 when the source had nothing new. */
  changed: number;
  /** The source's own date for what was applied (the KEV catalog's dateReleased, EPSS's score date, NVD's window end). */
  dataAsOf: string;
}

export interface FeedSource {
  readonly name: SourceName;
  /** The URL it reads (configurable: an air-gapped site points it at a mirror). */
  readonly url: string;
  run(db: Db, context: SourceContext): Promise<SourceRunResult>;
}

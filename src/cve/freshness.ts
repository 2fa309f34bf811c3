import type { CveStore } from './cve-store.js';
import { metaKeys } from './update.js';

/** How much CVE data the site holds and how old it is: said in `feed status`, every report, the daemon's log and status line. */
export interface CveDataStatus {
  cves: number;
  /** lastModified of the newest record held, or null for an empty database. */
  newest_record: string | null;
  /** Where an NVD update brought the data to (it may have found nothing newer), or null if never updated. */
  data_as_of: string | null;
  /** Whole days since the fresher of the two; null for an empty database. */
  age_days: number | null;
  stale: boolean;
  /** Said when stale or empty: one line naming the age and what to do. */
  warning: string | null;
}

const DAY_MS = 86_400_000;

export function cveDataStatus(store: CveStore, now: Date, staleAfterMs: number): CveDataStatus {
  const { cves } = store.counts();
  const newest = store.getMeta('newest_record_modified') ?? null;
  const asOf = store.getMeta(metaKeys.dataAsOf) ?? null;
  const freshest = [newest, asOf]
    .filter((value): value is string => value !== null)
    .sort()
    .at(-1);
  const ageMs = freshest === undefined ? null : Math.max(0, now.getTime() - Date.parse(freshest));
  const age_days = ageMs === null ? null : Math.floor(ageMs / DAY_MS);
  const stale = ageMs === null || ageMs > staleAfterMs;
  const limit = `${Math.round(staleAfterMs / DAY_MS)} day(s)`;
  const warning =
    cves === 0
      ? 'the CVE database is empty: no CVE can be found; run `cve-agent feed update` (NVD) or `feed import`, or connect the site to a control plane'
      : stale
        ? `the CVE data is ${age_days} day(s) old (newest record ${newest ?? '-'}), older than ${limit}: CVEs published since are not found; run \`cve-agent feed update\` or \`feed import\` with a full NVD feed`
        : null;
  return { cves, newest_record: newest, data_as_of: asOf, age_days, stale, warning };
}

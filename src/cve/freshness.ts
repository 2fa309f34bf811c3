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
  /** The configured limit (feed.max_age_days) the age is judged against. */
  max_age_days: number;
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
  const max_age_days = Math.round((staleAfterMs / DAY_MS) * 100) / 100;
  const limit = `${max_age_days} day(s)`;
  const warning =
    cves === 0
      ? 'the CVE database is empty: no CVE can be found; run `cve-agent feed update` (NVD) or `feed import`, or connect the site to a control plane'
      : stale
        ? `the CVE data is ${age_days} day(s) old (newest record ${newest ?? '-'}), older than ${limit} (feed.max_age_days): CVEs published since are not found; run \`cve-agent feed update\` or \`feed import\` with a full NVD feed`
        : null;
  return { cves, newest_record: newest, data_as_of: asOf, age_days, stale, max_age_days, warning };
}

/** What the last runs of one intelligence source did, kept in cve.db's feed_meta (`source_run:<name>`). */
export interface SourceRunRecord {
  source: string;
  /** When it last ran, and when it last succeeded (null: never). */
  last_run_at: string;
  last_ok_at: string | null;
  /** The source's own date for the data it last applied. */
  data_as_of: string | null;
  changed: number | null;
  /** The last run's failure, null when it succeeded. */
  error: string | null;
}

export interface SourceFreshness extends SourceRunRecord {
  /** Whole days since the last success; null when it never succeeded. */
  age_days: number | null;
  stale: boolean;
}

const runKey = (source: string) => `source_run:${source}`;

export function recordSourceRun(
  store: Pick<CveStore, 'getMeta' | 'setMeta'>,
  source: string,
  at: Date,
  outcome: { ok: true; dataAsOf: string; changed: number } | { ok: false; error: string },
): SourceRunRecord {
  const previous = readSourceRun(store, source);
  const record: SourceRunRecord = outcome.ok
    ? { source, last_run_at: at.toISOString(), last_ok_at: at.toISOString(), data_as_of: outcome.dataAsOf, changed: outcome.changed, error: null }
    : {
        source,
        last_run_at: at.toISOString(),
        last_ok_at: previous?.last_ok_at ?? null,
        data_as_of: previous?.data_as_of ?? null,
        changed: previous?.changed ?? null,
        error: outcome.error,
      };
  store.setMeta(runKey(source), JSON.stringify(record));
  return record;
}

export function readSourceRun(store: Pick<CveStore, 'getMeta'>, source: string): SourceRunRecord | undefined {
  const text = store.getMeta(runKey(source));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as SourceRunRecord;
  } catch {
    return undefined;
  }
}

/** Every source that has run on this database, with its age against the same limit as the CVE data. */
export function sourcesFreshness(store: Pick<CveStore, 'getMeta'>, sources: readonly string[], now: Date, staleAfterMs: number): SourceFreshness[] {
  return sources.flatMap((source) => {
    const record = readSourceRun(store, source);
    if (record === undefined) return [];
    const ageMs = record.last_ok_at === null ? null : Math.max(0, now.getTime() - Date.parse(record.last_ok_at));
    return [{ ...record, age_days: ageMs === null ? null : Math.floor(ageMs / DAY_MS), stale: ageMs === null || ageMs > staleAfterMs }];
  });
}

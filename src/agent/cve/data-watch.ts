/**
 * Notices that new CVE data arrived in cve.db, whoever wrote it: a feed delta pushed over the
 * uplink, the agent's own feed sources (NVD, KEV, EPSS, the Debian and Ubuntu trackers, RouterOS
 * releases), or `cve-agent feed import` / `feed update` run by hand in another process. Each of
 * these records what it did in cve.db's feed_meta, so one cheap read of those rows every few
 * seconds sees all of them; the last state acted on is kept in agent.db, so data that arrived
 * while the agent was down is noticed at its next start.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { lastDeltaKey } from '../../cve/delta.js';
import type { UplinkTimers } from '../uplink/timers.js';

/** The feed_meta rows that say data changed: a delta, an import, an NVD update, each source's run. */
const watchedKeys = `key IN ('${lastDeltaKey}', 'last_import', 'last_update') OR key LIKE 'source_run:%'`;

export type CveDataMarks = Record<string, string>;

/** The watched rows of cve.db (none when it does not exist yet). */
export function readCveDataMarks(stateDir: string): CveDataMarks {
  const file = path.join(stateDir, 'cve.db');
  if (!existsSync(file)) return {};
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.prepare<[], { key: string; value: string }>(`SELECT key, value FROM feed_meta WHERE ${watchedKeys} ORDER BY key`).all();
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  } finally {
    db.close();
  }
}

const parse = (text: string | undefined): Record<string, unknown> | undefined => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * What changed between two reads, said the way a re-match names its trigger ("feed delta 4→5:
 * 12 CVEs added, 3 updated; 40 intelligence rows"), or undefined when nothing that could change a
 * finding did (a run that changed no row, a failed run).
 */
export function describeCveDataChange(before: CveDataMarks, after: CveDataMarks): string | undefined {
  const said: string[] = [];
  const changed = (key: string) => after[key] !== undefined && after[key] !== before[key];
  if (changed(lastDeltaKey)) {
    const list = (text: string | undefined): Record<string, unknown>[] => {
      const parsed = text === undefined ? undefined : (JSON.parse(text) as unknown);
      return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
    };
    // Each delta applied since the last look, in order (several may land between two looks).
    const seen = Math.max(0, ...list(before[lastDeltaKey]).map((delta) => count(delta.to)));
    for (const delta of list(after[lastDeltaKey]).filter((entry) => count(entry.to) > seen)) {
      const parts = [
        count(delta.added) > 0 ? `${count(delta.added)} CVEs added` : '',
        count(delta.updated) > 0 ? `${count(delta.updated)} updated` : '',
        count(delta.removed) > 0 ? `${count(delta.removed)} rejected` : '',
        count(delta.rows) > 0 ? `${count(delta.rows)} KEV/EPSS/tracker rows` : '',
      ].filter(Boolean);
      if (parts.length > 0) said.push(`feed delta ${count(delta.from)}→${count(delta.to)}: ${parts.join(', ')}`);
    }
  }
  for (const [key, label] of [
    ['last_import', 'feed import'],
    ['last_update', 'NVD update'],
  ] as const) {
    if (!changed(key)) continue;
    const counts = parse(after[key]) ?? {};
    const parts = [
      count(counts.inserted) > 0 ? `${count(counts.inserted)} CVEs added` : '',
      count(counts.updated) > 0 ? `${count(counts.updated)} updated` : '',
      count(counts.removed) > 0 ? `${count(counts.removed)} rejected` : '',
    ].filter(Boolean);
    if (parts.length > 0) said.push(`${label}: ${parts.join(', ')}`);
  }
  for (const key of Object.keys(after).filter((name) => name.startsWith('source_run:'))) {
    const now = parse(after[key]);
    const then = parse(before[key]);
    // Only a success that changed rows: a failed run, or one that found nothing new, changes no finding.
    if (now === undefined || now.last_ok_at === null || now.last_ok_at === then?.last_ok_at || count(now.changed) === 0) continue;
    said.push(`${key.slice('source_run:'.length)} source: ${count(now.changed)} rows changed`);
  }
  return said.length > 0 ? said.join('; ') : undefined;
}

export interface CveDataWatchDeps {
  stateDir: string;
  logger: Logger;
  timers: UplinkTimers;
  /** How often cve.db is looked at (ms). */
  intervalMs: number;
  /**
   * Where the state last acted on is kept (agent.db), so a restart notices what arrived meanwhile.
   * The watch sets it only on a first start and when nothing that could change a finding arrived;
   * otherwise whoever acts on `onChange` sets it to `marks` once the work is recorded, so a crash
   * before that leaves the change to be noticed again at the next start.
   */
  baseline: { get(): string | undefined; set(value: string): void };
  /** New data: `what` says what changed; `marks` is the state that includes it (for `baseline.set`). */
  onChange(what: string, marks: string): void;
}

export interface CveDataWatch {
  /** Reads cve.db once now (the change since the stored baseline is reported), then every interval. */
  start(): void;
  stop(): void;
  /** One look now; true when a change was reported. */
  check(): boolean;
}

export function createCveDataWatch(deps: CveDataWatchDeps): CveDataWatch {
  const log = deps.logger.child({ component: 'cve-data-watch' });
  let interval: unknown;
  // What this process has seen: a change is told once, even before it is acted on.
  let seen: string | undefined;

  function check(): boolean {
    let after: CveDataMarks;
    try {
      after = readCveDataMarks(deps.stateDir);
    } catch (error) {
      // Busy or being rebuilt: the next look sees it.
      log.warn({ err: error }, 'cve.db could not be read to look for new CVE data; looking again at the next interval');
      return false;
    }
    const text = JSON.stringify(after);
    const last = seen ?? deps.baseline.get();
    if (last === text) return false;
    seen = text;
    // A first start has nothing to compare with: what is held now is the baseline.
    if (last === undefined) {
      deps.baseline.set(text);
      return false;
    }
    const what = describeCveDataChange(parse(last) as CveDataMarks, after);
    if (what === undefined) {
      deps.baseline.set(text);
      return false;
    }
    log.info({ change: what }, `new CVE data: ${what}`);
    deps.onChange(what, text);
    return true;
  }

  return {
    start() {
      check();
      interval = deps.timers.setInterval(() => void check(), deps.intervalMs);
    },
    stop() {
      deps.timers.clearInterval(interval);
    },
    check,
  };
}

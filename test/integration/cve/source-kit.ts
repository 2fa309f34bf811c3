/**
 * What the feed-source tests share: the fixture feed server on a loopback address, a fresh
 * cve.db, and a source context whose waits are recorded and instant (Retry-After and backoff
 * cost nothing). Each is cleaned up when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { cveMigrations } from '../../../src/cve/migrations.js';
import type { WaitingClock } from '../../../src/cve/rate-limiter.js';
import type { SourceContext } from '../../../src/cve/sources/source.js';
import { closeSqlite, openSqlite, type Db } from '../../../src/shared/sqlite.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFeedServer, type FeedServer } from '../../simulators/feed-server.js';

export async function feedServer(host: string): Promise<FeedServer> {
  const server = await startFeedServer(host);
  onTestFinished(() => server.close());
  return server;
}

export function sourceCveDb(): Db {
  const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-sources-'));
  const log = captureLogger();
  const db = openSqlite({ file: path.join(dir, 'cve.db'), logger: log.logger, migrations: cveMigrations });
  onTestFinished(() => {
    closeSqlite(db, log.logger);
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

export function sourceContext(now: string): SourceContext & { waits: number[] } {
  const waits: number[] = [];
  const clock: WaitingClock = {
    now: () => new Date(now),
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
  return { logger: captureLogger().logger, clock, waits };
}

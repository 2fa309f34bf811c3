/**
 * What a command wake-up costs a hub: reading the unsent commands of N woken sites one site at a
 * time (`commands.pending`, a transaction each) against one batched read (`commands.unsent`), on
 * SQLite and on a throwaway PostgreSQL; and the NOTIFY → LISTEN latency between two nodes.
 * BENCH_SITES (default 2000), BENCH_HOST (loopback address for PostgreSQL, default 127.0.0.1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { controlPlaneMigrations } from '../src/control-plane/store/migrations/index.js';
import { pgCommands } from '../src/control-plane/store/postgres/commands.js';
import { openPgDb } from '../src/control-plane/store/postgres/db.js';
import { migratePostgres } from '../src/control-plane/store/postgres/migrate.js';
import { notifyCommands, pgSignals } from '../src/control-plane/store/postgres/signals.js';
import { pgSites } from '../src/control-plane/store/postgres/sites.js';
import { openSqliteStore } from '../src/control-plane/store/sqlite/index.js';
import type { CommandStore, SiteStore } from '../src/control-plane/store/types.js';
import { createDatabase, startPostgres } from '../test/helpers/postgres.js';

const SITES = Number(process.env.BENCH_SITES ?? 2000);
const logger = pino({ level: 'silent' });
const at = new Date().toISOString();
const ms = (t: number) => `${(performance.now() - t).toFixed(1)} ms`;

async function reads(engine: string, sites: SiteStore, commands: CommandStore): Promise<void> {
  const ids = Array.from({ length: SITES }, () => crypto.randomUUID());
  for (const id of ids)
    await sites.create({ id, org_id: 'o', name: 'n', created_at: at, token_rotated_at: at, last_seen_at: null, agent_version: null, token_hash: id });
  await commands.enqueue(ids.map((siteId) => ({ siteId, build: () => ({ type: 'scan.stop', body: { schedule_id: siteId }, expires_at: null }) })));
  let t = performance.now();
  for (const id of ids) await commands.pending(id, 0, at);
  console.log(`${engine}: ${SITES} sites woken, one pending() each: ${ms(t)}`);
  t = performance.now();
  const unsent = await commands.unsent(
    ids.map((siteId) => ({ siteId, afterSeq: 0 })),
    at,
  );
  console.log(`${engine}: ${SITES} sites woken, one unsent() for all: ${ms(t)} (${unsent.size} sites answered)`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'bench-wakeup-'));
const sqlite = openSqliteStore({ stateDir: dir, logger, ingestThread: false });
await reads('sqlite', sqlite.sites, sqlite.commands);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });

const cluster = await startPostgres({ host: process.env.BENCH_HOST ?? '127.0.0.1' });
try {
  const url = await createDatabase(cluster.url, 'bench');
  const a = openPgDb({ url, logger, max: 10 });
  const b = openPgDb({ url, logger, max: 10 });
  await migratePostgres(a, controlPlaneMigrations, logger);
  await reads('postgres', pgSites(a), pgCommands(a));

  const sent = new Map<string, number>();
  const latencies: number[] = [];
  pgSignals(b, logger).onCommands(([id]) => {
    const start = sent.get(id as string);
    if (start !== undefined) latencies.push(performance.now() - start);
  });
  // LISTEN is set up in the background: wait until a wake-up is heard.
  while (latencies.length === 0) {
    const id = `warm-${crypto.randomUUID()}`;
    sent.set(id, performance.now());
    await a.tx((client) => notifyCommands(client, [id]));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  latencies.length = 0;
  for (let i = 0; i < 500; i++) {
    const id = `n-${i}`;
    sent.set(id, performance.now());
    await a.tx((client) => notifyCommands(client, [id]));
  }
  while (latencies.length < 500) await new Promise((resolve) => setTimeout(resolve, 20));
  latencies.sort((x, y) => x - y);
  const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number).toFixed(2);
  console.log(`postgres: commit → other node's onCommands over 500 wake-ups: p50 ${pct(50)} ms, p99 ${pct(99)} ms`);
  await a.close();
  await b.close();
} finally {
  cluster.stop();
}

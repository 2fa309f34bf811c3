import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import { migratePostgres, schemaVersion } from '../../../src/control-plane/store/postgres/migrate.js';
import { migratedDb } from './pg-kit.js';

const logger = pino({ level: 'silent' });
const latest = controlPlaneMigrations.at(-1)?.version ?? 0;

describe('PostgreSQL migrations', () => {
  it('applies the numbered list once, even when several nodes start at the same moment', async () => {
    const { db, open } = await migratedDb({ migrate: false });
    const nodes = [db, open(), open()];
    await Promise.all(nodes.map((node) => migratePostgres(node, controlPlaneMigrations, logger)));
    expect(await schemaVersion(db)).toBe(latest);
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(controlPlaneMigrations.map((migration) => migration.version));
  });

  it('refuses a database a newer control plane migrated, and changes nothing', async () => {
    const { db } = await migratedDb();
    await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', '2030-01-01T00:00:00.000Z')", [latest + 1]);
    await expect(migratePostgres(db, controlPlaneMigrations, logger)).rejects.toMatchObject({ code: 'CP_ERR_DB_TOO_NEW' });
    expect(await schemaVersion(db)).toBe(latest + 1);
  });

  it('keeps the schedule bounds of SQLite as a CHECK', async () => {
    const { db } = await migratedDb();
    const insert = (sites: string) =>
      db.query(
        `INSERT INTO schedules (id, org_id, description, day_of_week, time_of_day, every_n_weeks, timezone, min_cvss, warning_threshold,
           ignore_offline_sites, notification_group, sites, anchor_at, next_scan_at, created_at, updated_at)
         VALUES (gen_random_uuid()::text, 'o', 'd', 1, '10:00', 2, 'UTC', 1, 5, false, 'g', $1, 'a', 'b', 'c', 'd')`,
        [sites],
      );
    await insert('["s1"]');
    await expect(insert('[]')).rejects.toThrow(/schedules_bounds/);
    await expect(insert('{"a":1}')).rejects.toThrow(/schedules_bounds/);
  });
});

import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import { DATABASE_FILE, openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore } from '../../../src/control-plane/store/types.js';
import { tempDir } from '../../helpers/temp.js';

let store: ControlPlaneStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('the SQLite store ping (readiness)', () => {
  it('resolves on a migrated file, throws while a migration is missing, and throws once closed', async () => {
    const dir = tempDir();
    store = openSqliteStore({ stateDir: dir, logger: pino({ level: 'silent' }), ingestThread: false });
    await expect(store.ping()).resolves.toBeUndefined();
    const latest = controlPlaneMigrations.at(-1)?.version ?? 0;
    // Another connection winds the schema back, as a restored old backup would leave it.
    const other = new Database(path.join(dir, DATABASE_FILE));
    other.pragma(`user_version = ${latest - 1}`);
    await expect(store.ping()).rejects.toThrow(`the database schema is at version ${latest - 1}; this control plane needs ${latest}`);
    other.pragma(`user_version = ${latest}`);
    other.close();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    const closed = store;
    store = undefined;
    await expect(closed.ping()).rejects.toThrow();
  });
});

import { createHash } from 'node:crypto';
import { openSync, readFileSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/agent/errors.js';
import { openStore } from '../../../src/agent/store/database.js';
import { latestSchemaVersion, migrations } from '../../../src/agent/store/migrations/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function expectAgentError(fn: () => unknown, code: string): AgentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe(code);
    return error as AgentError;
  }
  throw new Error(`expected ${code}`);
}

describe('the agent store', () => {
  it('creates one SQLite file with WAL, foreign keys, FULL sync and every migration', () => {
    const dir = tempDir();
    const { logger, messages } = captureLogger();
    const store = openStore({ stateDir: dir, logger, exclusive: true });
    expect(store.file).toBe(path.join(dir, 'agent.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['schedules', 'schedule_sites', 'schedule_runs', 'agent_meta']));
    expect(messages().filter((m) => m === 'applied database migration')).toHaveLength(migrations.length);
    store.close();

    const again = captureLogger();
    const reopened = openStore({ stateDir: dir, logger: again.logger, exclusive: true });
    expect(again.messages()).not.toContain('applied database migration');
    reopened.close();
  });

  it('refuses a second agent on the same state directory while the first runs, and frees it at close', () => {
    const dir = tempDir();
    const { logger } = captureLogger();
    const first = openStore({ stateDir: dir, logger, exclusive: true });
    const error = expectAgentError(() => openStore({ stateDir: dir, logger, exclusive: true }), 'AGENT_ERR_DB_LOCKED');
    expect(error.message).toContain(dir);
    expect(error.exitCode).toBe(75);
    // A CLI reader does not take the lock and can share the file.
    const reader = openStore({ stateDir: dir, logger, exclusive: false });
    reader.close();
    first.close();
    openStore({ stateDir: dir, logger, exclusive: true }).close();
  });

  it('stops on a file that is not SQLite and leaves it as it was', () => {
    const dir = tempDir();
    const file = path.join(dir, 'agent.db');
    writeFileSync(file, "this is not a database, but it is somebody's data\n".repeat(200));
    const before = hash(file);
    const error = expectAgentError(() => openStore({ stateDir: dir, logger: captureLogger().logger, exclusive: true }), 'AGENT_ERR_DB_CORRUPT');
    expect(error.message).toMatch(/is corrupt .*will not overwrite it/);
    expect(hash(file)).toBe(before);
  });

  it('stops on a database whose pages are damaged and leaves it as it was', () => {
    const dir = tempDir();
    const file = path.join(dir, 'agent.db');
    const { logger } = captureLogger();
    const store = openStore({ stateDir: dir, logger, exclusive: true });
    const insert = store.db.prepare('INSERT INTO agent_meta (key, value) VALUES (?, ?)');
    store.db.transaction(() => {
      for (let i = 0; i < 3000; i += 1) insert.run(`key-${i}`, 'x'.repeat(100));
    })();
    store.close();
    const pageSize = 4096;
    expect(statSync(file).size).toBeGreaterThan(pageSize * 10);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 4, 0xa5), 0, pageSize * 4, pageSize * 3);
    closeSync(fd);
    const before = hash(file);
    expectAgentError(() => openStore({ stateDir: dir, logger, exclusive: true }), 'AGENT_ERR_DB_CORRUPT');
    expect(hash(file)).toBe(before);
  });

  it('stops on a database from a newer agent and leaves it as it was', () => {
    const dir = tempDir();
    const { logger } = captureLogger();
    openStore({ stateDir: dir, logger, exclusive: true }).close();
    const file = path.join(dir, 'agent.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${latestSchemaVersion + 5}`);
    raw.close();
    const before = hash(file);
    const error = expectAgentError(() => openStore({ stateDir: dir, logger, exclusive: true }), 'AGENT_ERR_DB_TOO_NEW');
    expect(error.message).toContain(`schema version ${latestSchemaVersion + 5}`);
    expect(hash(file)).toBe(before);
  });

  it('applies each migration in its own transaction: a failing one leaves the schema at the step before', async () => {
    const dir = tempDir();
    const { logger } = captureLogger();
    const migrationsModule = await import('../../../src/agent/store/migrations/index.js');
    const list = migrationsModule.migrations as unknown as { version: number; name: string; sql: string }[];
    list.push({ version: latestSchemaVersion + 1, name: 'broken', sql: 'CREATE TABLE half (x); CREATE TABLE broken (' });
    try {
      expect(() => openStore({ stateDir: dir, logger, exclusive: true })).toThrow();
    } finally {
      list.pop();
    }
    const raw = new Database(path.join(dir, 'agent.db'));
    expect(raw.pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
    expect(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    raw.close();
  });
});

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { KernelError } from '../../shared/errors.js';
import { acquireLockFile, closeSqlite, openSqlite, type Db } from '../../shared/sqlite.js';
import { AgentError } from '../errors.js';
import { migrations as agentMigrations } from './migrations/index.js';

export interface OpenedStore {
  db: Db;
  file: string;
  close(): void;
}

export interface OpenStoreOptions {
  stateDir: string;
  logger: Logger;
  /**
   * The daemon holds an exclusive lock for its lifetime so that a second agent on the same
   * state directory refuses to start. CLI commands that read or edit next to a running
   * daemon pass false (WAL lets them share the file safely).
   */
  exclusive: boolean;
}

/** The kernel's database errors in the agent's catalog (codes and exit codes of docs/errors.md). */
export function agentDbError(error: unknown, stateDir: string): unknown {
  if (!(error instanceof KernelError)) return error;
  switch (error.code) {
    case 'DB_CORRUPT':
      return new AgentError('AGENT_ERR_DB_CORRUPT', error.message, { cause: error });
    case 'DB_TOO_NEW':
      return new AgentError('AGENT_ERR_DB_TOO_NEW', error.message.replace('upgrade it', 'upgrade cve-agent'), { cause: error });
    case 'DB_LOCKED':
      return new AgentError('AGENT_ERR_DB_LOCKED', `another cve-agent is running on ${stateDir}; stop it or give this one its own --data-dir`, {
        cause: error,
      });
    default:
      return error;
  }
}

/** Opens the agent's own database, agent.db in the state directory, with the daemon's lock if asked. */
export function openStore(options: OpenStoreOptions): OpenedStore {
  const { stateDir, logger } = options;
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const file = path.join(stateDir, 'agent.db');
  let lock: Db | undefined;
  let opened: Db;
  try {
    lock = options.exclusive ? acquireLockFile(path.join(stateDir, 'agent.lock'), 'cve-agent') : undefined;
    opened = openSqlite({ file, logger, migrations: agentMigrations });
  } catch (error) {
    lock?.close();
    throw agentDbError(error, stateDir);
  }
  return {
    db: opened,
    file,
    close() {
      closeSqlite(opened, logger);
      lock?.close();
    },
  };
}

/**
 * PLACEHOLDER (issue 14, cluster-ops branch): only the signature of the PostgreSQL store, so
 * store/open.ts typechecks before the real engine lands. The store porters' postgres/index.ts
 * replaces this file whole.
 */
import type { Logger } from 'pino';
import { ControlPlaneError } from '../../errors.js';
import type { ControlPlaneStore } from '../types.js';
import type { PgDb } from './db.js';

export interface PostgresStoreOptions {
  url: string;
  pool?: { max?: number };
  logger: Logger;
}

export async function openPostgresStore(_options: PostgresStoreOptions): Promise<ControlPlaneStore & { db: PgDb }> {
  throw new ControlPlaneError('CP_ERR_CONFIG_INVALID', 'store.postgres: this build has no PostgreSQL store yet (placeholder)');
}

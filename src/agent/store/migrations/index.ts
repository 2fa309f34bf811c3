import { schedulesMigration } from './001-schedules.js';
import { scansMigration } from './002-scans.js';
import { routerHostsMigration } from './003-router-hosts.js';

/** A numbered step of the schema; each is applied in its own transaction and sets user_version. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** In order. Later features append theirs; a released migration is never edited. */
export const migrations: readonly Migration[] = [schedulesMigration, scansMigration, routerHostsMigration];

export const latestSchemaVersion = migrations.at(-1)?.version ?? 0;

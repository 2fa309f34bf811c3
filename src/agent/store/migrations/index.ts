import { schedulesMigration } from './001-schedules.js';
import { scansMigration } from './002-scans.js';
import { routerHostsMigration } from './003-router-hosts.js';
import { routerPinsMigration } from './004-router-pins.js';
import { scanCoverageMigration } from './005-scan-coverage.js';
import { findingPriorityMigration } from './006-finding-priority.js';
import { scanOriginMigration } from './007-scan-origin.js';
import { scanWindowsMigration } from './008-scan-windows.js';
import { rematchMigration } from './009-rematch.js';

import type { Migration } from '../../../shared/sqlite.js';

/** In order. Later features append theirs; a released migration is never edited. */
export const migrations: readonly Migration[] = [
  schedulesMigration,
  scansMigration,
  routerHostsMigration,
  routerPinsMigration,
  scanCoverageMigration,
  findingPriorityMigration,
  scanOriginMigration,
  scanWindowsMigration,
  rematchMigration,
];

export const latestSchemaVersion = migrations.at(-1)?.version ?? 0;

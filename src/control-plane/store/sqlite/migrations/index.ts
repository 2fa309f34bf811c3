import type { Migration } from '../../../../shared/sqlite.js';
import { initialMigration } from './001-initial.js';
import { inventorySubScanMigration } from './002-inventory-sub-scan.js';

/** In order; a released migration is never edited, later features append theirs. */
export const controlPlaneMigrations: readonly Migration[] = [initialMigration, inventorySubScanMigration];

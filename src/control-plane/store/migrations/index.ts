import type { ControlPlaneMigration } from './migration.js';
import { initialMigration } from './001-initial.js';
import { markCpeMigration } from './002-mark-cpe.js';
import { inventorySubScanMigration } from './003-inventory-sub-scan.js';
import { scheduleBoundsMigration } from './004-schedule-bounds.js';
import { orgCveFactsMigration } from './005-org-cve-facts.js';
import { subScanCoverageMigration } from './006-sub-scan-coverage.js';
import { findingPriorityMigration } from './007-finding-priority.js';
import { siteFeedMigration } from './008-site-feed.js';
import { kevAlertsMigration } from './009-kev-alerts.js';
import { consoleAuthMigration } from './010-console-auth.js';
import { scanOriginMigration } from './011-scan-origin.js';
import { scanWindowsMigration } from './012-scan-windows.js';

/** In order; a released migration is never edited, later features append theirs. */
export const controlPlaneMigrations: readonly ControlPlaneMigration[] = [
  initialMigration,
  markCpeMigration,
  inventorySubScanMigration,
  scheduleBoundsMigration,
  orgCveFactsMigration,
  subScanCoverageMigration,
  findingPriorityMigration,
  siteFeedMigration,
  kevAlertsMigration,
  consoleAuthMigration,
  scanOriginMigration,
  scanWindowsMigration,
];

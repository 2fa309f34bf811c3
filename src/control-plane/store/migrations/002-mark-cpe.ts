import type { ControlPlaneMigration } from './migration.js';

// A mark lapses when the device's product key (src/shared/marks.ts `productKey`) changes: the mark
// keeps the CPE of the finding it was made for, as the agent's vuln_marks do. Marks made before
// take the CPE of the newest finding of their device and CVE with the product and version they
// recorded; a mark with no such finding keeps null and applies to every version.
export const markCpeMigration: ControlPlaneMigration = {
  version: 2,
  name: 'control plane: marks keep the CPE they were made for',
  sql: `
    ALTER TABLE cve_marks ADD COLUMN cpe TEXT;
    UPDATE cve_marks SET cpe = (
      SELECT f.cpe FROM findings f JOIN hosts h ON h.id = f.host_id
      WHERE f.org_id = cve_marks.org_id AND h.mac = cve_marks.mac AND f.cve_id = cve_marks.cve_id
        AND f.product IS cve_marks.product AND f.version IS cve_marks.version
      ORDER BY f.id DESC LIMIT 1
    ) WHERE version IS NOT NULL;
  `,
  postgres: `
    ALTER TABLE cve_marks ADD COLUMN cpe TEXT;
    UPDATE cve_marks SET cpe = (
      SELECT f.cpe FROM findings f JOIN hosts h ON h.id = f.host_id
      WHERE f.org_id = cve_marks.org_id AND h.mac = cve_marks.mac AND f.cve_id = cve_marks.cve_id
        AND f.product IS NOT DISTINCT FROM cve_marks.product AND f.version IS NOT DISTINCT FROM cve_marks.version
      ORDER BY f.id DESC LIMIT 1
    ) WHERE version IS NOT NULL;
  `,
};

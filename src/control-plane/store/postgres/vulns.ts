/** Findings by device, CVE records and marks on PostgreSQL (VulnStore), answering what store/sqlite/vulns.ts answers. */
import type { CveRecord } from '../../../protocol/index.js';
import type { CveMarkRow, Occurrence, VulnStore } from '../types.js';
import { fromJson } from '../json.js';
import { findingViewSelect, hydrateFinding, type RawFindingView } from '../rows.js';
import { commandWriter } from './commands.js';
import type { PgDb } from './db.js';

interface RawCve {
  id: string;
  description: string;
  published_at: string | null;
  vector: string | null;
  score: number;
  severity: CveRecord['severity'];
  compliance_tags: string;
  refs: string;
  fixed_versions: string;
  advice: string | null;
}

const markFields =
  'id, org_id, mac AS mac_address, cve_id, status, justification, scan_id, product, version, cpe, expiration_date, created_by, updated_by, created_at, updated_at';
// seq is the insertion order (SQLite's rowid): of two marks of the same millisecond the later comes first.
const newestFirst = 'ORDER BY created_at DESC, seq DESC';

export function pgVulns(db: PgDb): VulnStore {
  return {
    async findingsByMacs(orgId, macs) {
      const rows = await db.query<RawFindingView>(`${findingViewSelect} WHERE f.org_id = $1 AND h.mac = ANY($2::text[]) ORDER BY f.id DESC`, [orgId, macs]);
      return rows.map(hydrateFinding);
    },
    async occurrences(orgId, macs) {
      return db.query<Occurrence>(
        `SELECT f.id, f.scan_id, f.host_id, h.mac, h.ip, f.cve_id, f.created_at FROM findings f JOIN hosts h ON h.id = f.host_id
         WHERE f.org_id = $1 AND h.mac = ANY($2::text[]) ORDER BY f.id DESC`,
        [orgId, macs],
      );
    },
    async cve(orgId, id) {
      // Known to an organization only through its own findings: the join leaves out a CVE only others found.
      const [row] = await db.query<RawCve>(
        `SELECT c.id, c.description, c.published_at, c.vector, c.score, c.severity, c.compliance_tags, c.refs, o.fixed_versions, o.advice
         FROM cves c JOIN org_cve_facts o ON o.cve_id = c.id AND o.org_id = $1 WHERE c.id = $2`,
        [orgId, id],
      );
      if (!row) return undefined;
      const { refs, compliance_tags, fixed_versions, ...rest } = row;
      return { ...rest, references: fromJson(refs), compliance_tags: fromJson(compliance_tags), fixed_versions: fromJson(fixed_versions) };
    },
    async latestFinding(orgId, mac, cveId) {
      // Finding ids are UUIDv7: in id order is in time order.
      const [row] = await db.query<RawFindingView>(`${findingViewSelect} WHERE f.org_id = $1 AND h.mac = $2 AND f.cve_id = $3 ORDER BY f.id DESC LIMIT 1`, [
        orgId,
        mac,
        cveId,
      ]);
      return row && hydrateFinding(row);
    },
    async insertMark(mark, commands = []) {
      return db.tx(async (client) => {
        await client.query(
          `INSERT INTO cve_marks (id, org_id, mac, cve_id, status, justification, scan_id, product, version, cpe, expiration_date, created_by, updated_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [
            mark.id,
            mark.org_id,
            mark.mac_address,
            mark.cve_id,
            mark.status,
            mark.justification,
            mark.scan_id,
            mark.product,
            mark.version,
            mark.cpe,
            mark.expiration_date,
            mark.created_by,
            mark.updated_by,
            mark.created_at,
            mark.updated_at,
          ],
        );
        return commandWriter(client, commands);
      });
    },
    async listMarks(orgId, filter) {
      return db.query<CveMarkRow>(
        `SELECT ${markFields} FROM cve_marks WHERE org_id = $1 AND ($2::text IS NULL OR mac = $2) AND ($3::text IS NULL OR cve_id = $3)
           AND ($4::text IS NULL OR status = $4) ${newestFirst}`,
        [orgId, filter.mac_address ?? null, filter.cve_id ?? null, filter.status ?? null],
      );
    },
    async marksOf(orgId, macs) {
      return db.query<CveMarkRow>(`SELECT ${markFields} FROM cve_marks WHERE org_id = $1 AND mac = ANY($2::text[]) ${newestFirst}`, [orgId, macs]);
    },
  };
}

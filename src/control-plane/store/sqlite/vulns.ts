import type { Db } from '../../../shared/sqlite.js';
import type { CveRecord } from '../../../protocol/index.js';
import type { CommandItem, CveMarkRow, Occurrence, VulnStore } from '../types.js';
import { commandWriter } from './commands.js';
import { fromJson } from '../json.js';
import { findingViewSelect, hydrateFinding, type RawFindingView } from '../rows.js';
import type { SqliteSignals } from './signals.js';

// MAC lists are bound as one JSON array, so a statement serves any number of them.
const inMacs = `IN (SELECT value FROM json_each(?))`;

export function sqliteVulns(db: Db, signals: SqliteSignals): VulnStore {
  const byMacs = db.prepare<[string, string], RawFindingView>(`${findingViewSelect} WHERE f.org_id = ? AND h.mac ${inMacs} ORDER BY f.id DESC`);
  const occurrences = db.prepare<[string, string], Occurrence>(
    `SELECT f.id, f.scan_id, f.host_id, h.mac, h.ip, f.cve_id, f.created_at FROM findings f JOIN hosts h ON h.id = f.host_id WHERE f.org_id = ? AND h.mac ${inMacs} ORDER BY f.id DESC`,
  );
  const cve = db.prepare<
    [string, string],
    {
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
  >(
    // Known to an organization only through its own findings: the join leaves out a CVE only others found.
    `SELECT c.id, c.description, c.published_at, c.vector, c.score, c.severity, c.compliance_tags, c.refs, o.fixed_versions, o.advice
     FROM cves c JOIN org_cve_facts o ON o.cve_id = c.id AND o.org_id = ? WHERE c.id = ?`,
  );
  // Finding ids are UUIDv7: in id order is in time order.
  const latest = db.prepare<[string, string, string], RawFindingView>(
    `${findingViewSelect} WHERE f.org_id = ? AND h.mac = ? AND f.cve_id = ? ORDER BY f.id DESC LIMIT 1`,
  );
  const insertMark = db.prepare(
    `INSERT INTO cve_marks (id, org_id, mac, cve_id, status, justification, scan_id, product, version, cpe, expiration_date, created_by, updated_by, created_at, updated_at)
     VALUES (@id, @org_id, @mac_address, @cve_id, @status, @justification, @scan_id, @product, @version, @cpe, @expiration_date, @created_by, @updated_by, @created_at, @updated_at)`,
  );
  const writeCommands = commandWriter(db, signals);
  const insertMarkTx = db.transaction((mark: CveMarkRow, commands: CommandItem[]) => {
    insertMark.run(mark);
    return writeCommands(commands);
  });
  const markFields =
    'id, org_id, mac AS mac_address, cve_id, status, justification, scan_id, product, version, cpe, expiration_date, created_by, updated_by, created_at, updated_at';
  const listMarks = db.prepare<{ org: string; mac: string | null; cve: string | null; status: string | null }, CveMarkRow>(
    `SELECT ${markFields} FROM cve_marks WHERE org_id = @org AND (@mac IS NULL OR mac = @mac) AND (@cve IS NULL OR cve_id = @cve) AND (@status IS NULL OR status = @status)
     ORDER BY created_at DESC, rowid DESC`,
  );
  const marksOf = db.prepare<[string, string], CveMarkRow>(
    `SELECT ${markFields} FROM cve_marks WHERE org_id = ? AND mac ${inMacs} ORDER BY created_at DESC, rowid DESC`,
  );

  return {
    async findingsByMacs(orgId, macs) {
      return byMacs.all(orgId, JSON.stringify(macs)).map(hydrateFinding);
    },
    async occurrences(orgId, macs) {
      return occurrences.all(orgId, JSON.stringify(macs));
    },
    async cve(orgId, id) {
      const row = cve.get(orgId, id);
      if (!row) return undefined;
      const { refs, compliance_tags, fixed_versions, ...rest } = row;
      return { ...rest, references: fromJson(refs), compliance_tags: fromJson(compliance_tags), fixed_versions: fromJson(fixed_versions) };
    },
    async latestFinding(orgId, mac, cveId) {
      const row = latest.get(orgId, mac, cveId);
      return row && hydrateFinding(row);
    },
    async insertMark(mark, commands = []) {
      return signals.committed(() => insertMarkTx.immediate(mark, commands));
    },
    async listMarks(orgId, filter) {
      return listMarks.all({ org: orgId, mac: filter.mac_address ?? null, cve: filter.cve_id ?? null, status: filter.status ?? null });
    },
    async marksOf(orgId, macs) {
      return marksOf.all(orgId, JSON.stringify(macs));
    },
  };
}

/**
 * CVE records (global) and what each organization's agents derived for them (fixed versions,
 * advice), as an ingest batch brings them: the batch's first copy of each.
 */
import type { Queryable } from './db.js';
import { byKey, rowsOf } from './bulk.js';

/**
 * The batch's CVE records (by id) and organizations' facts (by `<org> <cve>`): new ones inserted, changed ones updated.
 * An unchanged record is left alone, unlocked: a popular CVE's row is in most batches of every
 * node, and rewriting it each time would make all nodes' batches wait on it in turn.
 */
export async function writeCves(
  client: Queryable,
  records: ReadonlyMap<string, Record<string, unknown>>,
  orgFacts: ReadonlyMap<string, Record<string, unknown>>,
): Promise<void> {
  if (records.size === 0) return;
  const cves = JSON.stringify([...records.values()].sort((a, b) => byKey(a.id as string, b.id as string)));
  const columns = ['id', 'description', 'published_at', 'vector', 'score', 'severity', 'compliance_tags', 'refs', 'updated_at'];
  await client.query(`INSERT INTO cves (${columns.join(', ')}) ${rowsOf('cves', columns)} ON CONFLICT (id) DO NOTHING`, [cves]);
  const record = (t: string) => ['description', 'published_at', 'vector', 'score', 'severity', 'compliance_tags', 'refs'].map((c) => `${t}.${c}`).join(', ');
  await client.query(
    `UPDATE cves c SET description = r.description, published_at = r.published_at, vector = r.vector, score = r.score, severity = r.severity,
       compliance_tags = r.compliance_tags, refs = r.refs, updated_at = r.updated_at
     FROM (${rowsOf('cves', columns)}) r WHERE c.id = r.id AND (${record('c')}) IS DISTINCT FROM (${record('r')})`,
    [cves],
  );
  const facts = JSON.stringify([...orgFacts.entries()].sort(([a], [b]) => byKey(a, b)).map(([, row]) => row));
  const factColumns = ['org_id', 'cve_id', 'fixed_versions', 'advice', 'updated_at'];
  await client.query(`INSERT INTO org_cve_facts (${factColumns.join(', ')}) ${rowsOf('org_cve_facts', factColumns)} ON CONFLICT (org_id, cve_id) DO NOTHING`, [
    facts,
  ]);
  await client.query(
    `UPDATE org_cve_facts o SET fixed_versions = r.fixed_versions, advice = COALESCE(r.advice, o.advice), updated_at = r.updated_at
     FROM (${rowsOf('org_cve_facts', factColumns)}) r
     WHERE o.org_id = r.org_id AND o.cve_id = r.cve_id AND (o.fixed_versions IS DISTINCT FROM r.fixed_versions OR (r.advice IS NOT NULL AND o.advice IS DISTINCT FROM r.advice))`,
    [facts],
  );
}

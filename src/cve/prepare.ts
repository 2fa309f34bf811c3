import type { z } from 'zod';
import { criteriaPrefix, criteriaRest, maxProductsPerRecord, packEntries, packStatements, packText, type PackedEntry } from './compact.js';
import { parseCpe, valueText } from './cpe.js';
import { nvdCveSchema, type NvdConfiguration } from './nvd-schema.js';
import { adviceTags, isRejected, toCveRecord, type CveRecord } from './record.js';

/**
 * From a raw NVD record to the rows cve.db stores, with no database at hand: validation,
 * the compact record, the product index. Pure, so the import can run it in a worker thread
 * while the main thread writes.
 */

/** The cves columns in insert order; PreparedRecord.values follows it. */
export const cveColumns = [
  'id',
  'published',
  'last_modified',
  'vuln_status',
  'score',
  'severity',
  'score_version',
  'score_source',
  'score_type',
  'vector',
  'analysed',
  'cwes',
  'text',
  'statements',
] as const;

/**
 * A cves row as positional values (see compact.ts for text and statements). Positional
 * because batches cross from the parser thread to the writer, and arrays clone far faster
 * than objects.
 */
export type CveValues = [
  id: string,
  published: string,
  lastModified: string,
  vulnStatus: string,
  score: number | null,
  severity: string | null,
  scoreVersion: string | null,
  scoreSource: string | null,
  scoreType: string | null,
  vector: string | null,
  /** 0 when NVD has not analysed the record (no configurations): kept, never matched. */
  analysed: 0 | 1,
  cwes: string,
  /** packText: the description and the references a finding's advice cites. */
  text: Uint8Array,
  /** packStatements: the configurations, when some vulnerable entry needs its whole statement; else null. */
  statements: Uint8Array | null,
];

/** The vulnerable entries of one (vendor, product, part) in one record. */
export interface IndexGroup {
  vendor: string;
  product: string;
  part: string;
  entries: PackedEntry[];
}

export interface PreparedRecord {
  values: CveValues;
  rejected: boolean;
  /** cpe_match rows flattened: vendor, product, part, packed entries, vendor, … */
  index: string[];
}

export type Prepared = { ok: true; record: PreparedRecord } | { ok: false; cve: string; reason: string };

/** part, vendor and product of a criteria string; the common unquoted case without the full parser. */
function identity(criteria: string): { part: string; vendor: string; product: string } {
  if (!criteria.includes('\\') && !criteria.includes('?')) {
    const [, , part = '*', vendor = '*', product = '*'] = criteria.split(':', 5);
    return { part: part.toLowerCase(), vendor: vendor.toLowerCase(), product: product.toLowerCase() };
  }
  const cpe = parseCpe(criteria);
  return { part: valueText(cpe.part), vendor: valueText(cpe.vendor), product: valueText(cpe.product) };
}

/**
 * Whether an entry's configuration holds by that entry alone: one node (or an OR of nodes),
 * nothing negated, and the node itself an OR. Anything else needs the whole statement.
 */
function isStandalone(configuration: NvdConfiguration, node: NvdConfiguration['nodes'][number]): boolean {
  const oneOfNodes = configuration.nodes.length === 1 || configuration.operator === 'OR';
  return oneOfNodes && !configuration.negate && !node.negate && (node.operator === 'OR' || node.cpeMatch.length === 1);
}

/** The vulnerable entries of a record grouped by product; positions count every cpeMatch entry from 1, in document order. */
export function indexGroups(configurations: readonly NvdConfiguration[]): IndexGroup[] {
  const groups = new Map<string, IndexGroup>();
  let position = 0;
  for (const configuration of configurations) {
    for (const node of configuration.nodes) {
      for (const match of node.cpeMatch) {
        position += 1;
        // A vulnerable entry under a negation says nothing a scan could report.
        if (!match.vulnerable || node.negate) continue;
        const { part, vendor, product } = identity(match.criteria);
        const key = `${vendor}\0${product}\0${part}`;
        let group = groups.get(key);
        if (!group) {
          group = { vendor, product, part, entries: [] };
          groups.set(key, group);
        }
        group.entries.push({
          position,
          rest: criteriaRest(match.criteria, criteriaPrefix(part, vendor, product)),
          startIncluding: match.versionStartIncluding ?? null,
          startExcluding: match.versionStartExcluding ?? null,
          endIncluding: match.versionEndIncluding ?? null,
          endExcluding: match.versionEndExcluding ?? null,
          standalone: isStandalone(configuration, node) ? 1 : 0,
        });
      }
    }
  }
  return [...groups.values()];
}

export function toValues(record: CveRecord, groups: readonly IndexGroup[]): CveValues {
  const score = record.score;
  const analysed = record.configurations.length > 0;
  return [
    record.id,
    record.published,
    record.lastModified,
    record.vulnStatus,
    score?.score ?? null,
    score?.severity ?? null,
    score?.version ?? null,
    score?.source ?? null,
    score?.type ?? null,
    score?.vector ?? null,
    analysed ? 1 : 0,
    JSON.stringify(record.cwes),
    packText(
      record.description,
      record.references.filter((reference) => reference.tags.some((tag) => adviceTags.has(tag))),
    ),
    needsStatements(groups) ? packStatements(record.configurations) : null,
  ];
}

/** The whole statement is kept only where matching reads it: an entry that is not standalone. */
export function needsStatements(groups: readonly IndexGroup[]): boolean {
  return groups.some((group) => group.entries.some((entry) => entry.standalone === 0));
}

/** The cpe_match rows of a record, flattened as PreparedRecord.index. */
export function flattenGroups(groups: readonly IndexGroup[]): string[] {
  return groups.flatMap((group) => [group.vendor, group.product, group.part, packEntries(group.entries)]);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    .join('; ');
}

function idOf(raw: unknown): string {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : '(no id)';
}

/** Validates and prepares one record; a malformed one comes back with its CVE id and the reason. */
export function prepareRecord(raw: unknown): Prepared {
  const parsed = nvdCveSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, cve: idOf(raw), reason: describeIssues(parsed.error) };
  const record = toCveRecord(parsed.data);
  const rejected = isRejected(record);
  const groups = rejected ? [] : indexGroups(record.configurations);
  if (groups.length > maxProductsPerRecord)
    return { ok: false, cve: record.id, reason: `names ${groups.length} products; at most ${maxProductsPerRecord} are kept` };
  return { ok: true, record: { values: toValues(record, groups), rejected, index: flattenGroups(groups) } };
}

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { NvdConfiguration } from './nvd-schema.js';
import type { CveReference } from './record.js';
import type { VersionBounds } from './version.js';

/**
 * The compact forms cve.db keeps of a record (migration 3): what matching and a finding need,
 * small enough for a site box's SD card. The full record (every reference and metric, the
 * match criteria ids) stays with the control plane, which serves it through its API.
 */

/** A record's bytes as they cross from the parser thread: an exact-size copy, so a clone never carries a pooled buffer. */
function exact(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * A 4 KB window and small hash tables: the texts are a few hundred bytes, and zlib's default
 * 32 KB window and 128 KB tables cost more to set up per call than the compression itself
 * (half the time, the same size on the real records). Inflate reads any window size.
 */
const deflateOptions = { windowBits: 12, memLevel: 5 } as const;
/** The default 16 KB output chunk is allocated per call; a text is rarely over 1 KB (a longer one takes a few chunks). */
const inflateOptions = { chunkSize: 1024 } as const;

/** better-sqlite3 binds Buffers only; a structured clone hands back a plain Uint8Array. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The English description and the references a finding's advice cites, in one deflated JSON: text compresses better together. */
export function packText(description: string, adviceRefs: readonly CveReference[]): Uint8Array {
  const refs = adviceRefs.map((reference) => [reference.url, ...reference.tags]);
  return exact(deflateRawSync(JSON.stringify([description, refs]), deflateOptions));
}

export function unpackText(bytes: Uint8Array): { description: string; adviceReferences: CveReference[] } {
  const [description, refs] = JSON.parse(inflateRawSync(bytes, inflateOptions).toString('utf8')) as [string, [string, ...string[]][]];
  return { description, adviceReferences: refs.map(([url, ...tags]) => ({ url, tags })) };
}

/**
 * A record's configurations without NVD's matchCriteriaId (an id the agent never reads), for
 * the statements whose entries need the whole statement (AND, negate). Deflated JSON.
 */
export function packStatements(configurations: readonly NvdConfiguration[]): Uint8Array {
  const lean = configurations.map((configuration) => ({
    ...configuration,
    nodes: configuration.nodes.map((node) => ({ ...node, cpeMatch: node.cpeMatch.map(({ matchCriteriaId: _id, ...entry }) => entry) })),
  }));
  return exact(deflateRawSync(JSON.stringify(lean), deflateOptions));
}

export function unpackStatements(bytes: Uint8Array): NvdConfiguration[] {
  return JSON.parse(inflateRawSync(bytes, inflateOptions).toString('utf8')) as NvdConfiguration[];
}

/** The attributes after the product (version … other): eight of them in every NVD criteria string. */
const attributesAfterProduct = 8;

/**
 * A criteria string without what its cpe_match row already says: `cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*`
 * under openbsd:openssh is `9.2:p1`. A criteria whose prefix is not the row's verbatim
 * (upper case, quoting) is kept whole.
 */
export function criteriaRest(criteria: string, prefix: string): string {
  if (!criteria.startsWith(prefix) || criteria.includes('\\')) return criteria;
  let rest = criteria.slice(prefix.length);
  while (rest.endsWith(':*')) rest = rest.slice(0, -2);
  return rest;
}

export function criteriaFromRest(rest: string, prefix: string): string {
  if (rest.startsWith('cpe:')) return rest;
  let missing = attributesAfterProduct - 1;
  for (let i = 0; i < rest.length; i += 1) if (rest.charCodeAt(i) === 58) missing -= 1;
  return prefix + rest + ':*'.repeat(missing);
}

/** cpe_match numbers a record's rows in 16 bits (cve-store.ts); NVD's largest records name a few hundred products. */
export const maxProductsPerRecord = 2 ** 16;

export const criteriaPrefix = (part: string, vendor: string, product: string): string => `cpe:2.3:${part}:${vendor}:${product}:`;

/** One vulnerable cpeMatch entry as matching reads it (see cpe_match in migrations.ts). */
export interface PackedEntry {
  /** The entry's place among the record's cpeMatch entries, from 1, in document order. */
  position: number;
  /** criteriaRest of the criteria string. */
  rest: string;
  startIncluding: string | null;
  startExcluding: string | null;
  endIncluding: string | null;
  endExcluding: string | null;
  /** 1 when the entry's configuration holds by that entry alone (one plain OR node). */
  standalone: 0 | 1;
}

/** The version bounds of an entry as the version module reads them. */
export function boundsOf(entry: PackedEntry): VersionBounds {
  return {
    versionStartIncluding: entry.startIncluding ?? undefined,
    versionStartExcluding: entry.startExcluding ?? undefined,
    versionEndIncluding: entry.endIncluding ?? undefined,
    versionEndExcluding: entry.endExcluding ?? undefined,
  };
}

const fields = 7;

/** Entries as one flat JSON array, 7 values each, 0 for an absent bound (a bound is never empty nor a number). */
export function packEntries(entries: readonly PackedEntry[]): string {
  const flat: (string | number)[] = [];
  for (const entry of entries) {
    flat.push(
      entry.position,
      entry.rest,
      entry.startIncluding ?? 0,
      entry.startExcluding ?? 0,
      entry.endIncluding ?? 0,
      entry.endExcluding ?? 0,
      entry.standalone,
    );
  }
  return JSON.stringify(flat);
}

export function unpackEntries(text: string): PackedEntry[] {
  const flat = JSON.parse(text) as (string | number)[];
  const bound = (value: string | number | undefined): string | null => (typeof value === 'string' ? value : null);
  const entries: PackedEntry[] = [];
  for (let i = 0; i < flat.length; i += fields) {
    entries.push({
      position: flat[i] as number,
      rest: flat[i + 1] as string,
      startIncluding: bound(flat[i + 2]),
      startExcluding: bound(flat[i + 3]),
      endIncluding: bound(flat[i + 4]),
      endExcluding: bound(flat[i + 5]),
      standalone: flat[i + 6] === 1 ? 1 : 0,
    });
  }
  return entries;
}

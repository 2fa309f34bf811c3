import { CveError } from './errors.js';
import { CpeParseError, formatCpe, parseCpe, valueText, type Cpe } from './cpe.js';
import { boundsOf, criteriaFromRest, criteriaPrefix } from './compact.js';
import { criterionRow, type CriterionRow, type CveStore } from './cve-store.js';
import { buildAdvice, describeRange, fixedIn, type Advice } from './advice.js';
import { isDistroRevision } from './distro.js';
import { distroPackageOf } from './distro/banner-tag.js';
import type { DistroStatusLookup } from './distro/status-rows.js';
import { decideDistroVerdict, type DistroVerdict } from './distro/verdict.js';
import { evaluateConfiguration, matchEntry, rangeVersion, type Assumption, type EntryMatch } from './entry-match.js';
import { normaliseCandidate, productLabel, serviceCandidates, type DetectedService } from './services.js';

/** One CVE that applies to a detected product, with everything a report and an operator need. */
export interface Finding {
  cve_id: string;
  description: string;
  published: string;
  last_modified: string;
  vuln_status: string;
  /** The score NVD marks Primary, preferring CVSS v3.1, v3.0, v4.0, then v2 (see record.ts). */
  score: number | null;
  severity: string | null;
  cvss_version: string | null;
  vector: string | null;
  score_source: string | null;
  score_type: string | null;
  cwes: string[];
  /** The CPE name matched (the host's). */
  cpe: string;
  /** NVD's criterion that matched, and its range in words. */
  matched_criteria: string;
  affected: string;
  /** The version compared with NVD's bounds (pre-releases joined: `7.1rc1`). */
  version: string;
  /** The nearest release NVD records as fixed (a versionEndExcluding), or null. */
  fixed_in: string | null;
  /** 0..1: 1 when every condition was observed; lowered for each assumption and for a distro package. */
  confidence: number;
  confidence_level: 'high' | 'medium' | 'low';
  possibly_backported: boolean;
  assumptions: string[];
  advice: Advice;
  /**
   * The Debian/Ubuntu tracker's verdict for the package behind the banner, when the banner names
   * one of their builds and tracker data is loaded (src/cve/distro/verdict.ts). 'fixed' and
   * 'not-affected' mean the distribution patched it: not a vulnerability, listed as patched.
   */
  distro?: DistroVerdict;
}

export interface MatchContext {
  /** Other CPE names observed on the same host (its OS, its hardware): "running on" statements are decided with them. */
  platforms?: readonly string[];
  /** A distribution revision from the banner (`Debian-2+deb12u3`, `(Ubuntu)`): matches become possibly_backported. */
  distro?: string | undefined;
  /** Leave out CVEs scored below this (unscored CVEs are kept). */
  minScore?: number;
}

const weights: Record<Assumption['kind'], number> = { attribute: 0.8, platform: 0.6, pre_release: 0.7 };

export function confidenceOf(assumptions: readonly Assumption[], possiblyBackported: boolean): number {
  let confidence = assumptions.reduce((value, assumption) => value * weights[assumption.kind], 1);
  if (possiblyBackported) confidence *= 0.5;
  return Math.round(confidence * 100) / 100;
}

export function confidenceLevel(confidence: number): Finding['confidence_level'] {
  return confidence >= 0.9 ? 'high' : confidence >= 0.5 ? 'medium' : 'low';
}

function invalidLookup(message: string, cause?: unknown): CveError {
  return new CveError('CVE_ERR_LOOKUP_INVALID', message, cause === undefined ? undefined : { cause });
}

/**
 * A criterion as matchEntry reads it, from a cpe_match row's compact criteria. The row was found
 * by the candidate's vendor and product, so those two are ANY here: only the part and the
 * attributes after the product are compared. Cached by shape, which repeats across products
 * (`*`, `2.4.49`, `7.2:p1`), so a lookup parses almost nothing.
 */
const shapes = new Map<string, Cpe>();
function criterionShape(part: string, rest: string): Cpe {
  if (rest.startsWith('cpe:')) return parseCpe(rest);
  const key = `${part}:${rest}`;
  let shape = shapes.get(key);
  if (!shape) {
    shape = parseCpe(criteriaFromRest(rest, criteriaPrefix(part, '*', '*')));
    if (shapes.size > 50_000) shapes.clear();
    shapes.set(key, shape);
  }
  return shape;
}

function parseOrThrow(text: string): Cpe {
  try {
    return parseCpe(text);
  } catch (error) {
    if (error instanceof CpeParseError) throw invalidLookup(error.message, error);
    throw error;
  }
}

interface Hit {
  row: CriterionRow;
  match: EntryMatch;
}

interface Decision {
  row: CriterionRow;
  assumptions: Assumption[];
}

export type CveMatcher = ReturnType<typeof createCveMatcher>;

/**
 * The matcher over cve.db. Offline by construction: it reads the local database only.
 * A lookup reads the criteria of one vendor:product (one index range), evaluates the entries
 * in memory, and reads a record's configuration only for AND/negate statements.
 */
/** The upstream version as a distribution package carries it: `9.2` update `p1` → `9.2p1`. */
function upstreamOf(candidate: Cpe): string | undefined {
  if (candidate.version.kind !== 'value') return undefined;
  return candidate.update.kind === 'value' ? `${candidate.version.text}${candidate.update.text}` : candidate.version.text;
}

/** distroStatus: reads cve.db's distro_status; without it, distro builds stay "possibly backported". */
export function createCveMatcher(store: CveStore, distroStatus?: DistroStatusLookup) {
  function decide(key: number, hits: readonly Hit[], candidate: Cpe, platforms: readonly Cpe[]): Decision | undefined {
    const options: Decision[] = hits.filter((hit) => hit.row.standalone === 1).map((hit) => ({ row: hit.row, assumptions: hit.match.assumptions }));
    const nested = hits.filter((hit) => hit.row.standalone === 0);
    if (nested.length > 0) {
      const configurations = store.configurations(key) ?? [];
      const matched = new Map(nested.map((hit) => [hit.row.position, hit.match]));
      let first = 1;
      for (const configuration of configurations) {
        const size = configuration.nodes.reduce((sum, node) => sum + node.cpeMatch.length, 0);
        const inside = nested.filter((hit) => hit.row.position >= first && hit.row.position < first + size);
        if (inside.length > 0) {
          const result = evaluateConfiguration(configuration, first, matched, candidate, platforms);
          if (result.holds) options.push({ row: (inside[0] as Hit).row, assumptions: result.assumptions });
        }
        first += size;
      }
    }
    return options.sort((a, b) => a.assumptions.length - b.assumptions.length)[0];
  }

  function matchCpe(cpeText: string, context: MatchContext = {}): Finding[] {
    const candidate = normaliseCandidate(parseOrThrow(cpeText));
    if (candidate.vendor.kind !== 'value' || candidate.product.kind !== 'value' || candidate.vendor.pattern || candidate.product.pattern) {
      throw invalidLookup(`${cpeText}: a lookup needs a vendor and a product`);
    }
    const platforms = (context.platforms ?? []).map(parseOrThrow);
    const part = valueText(candidate.part);
    const vendor = candidate.vendor.text;
    const product = candidate.product.text;
    // Every entry is tried on its compact form; whole rows are made only for the CVEs it hits.
    const byCve = new Map<number, { rows: CriterionRow[]; hits: Hit[] }>();
    const productRows = store.matchRows(vendor, product).filter((row) => part === '*' || row.part === part);
    for (const row of productRows) {
      for (const entry of row.entries) {
        const match = matchEntry(criterionShape(row.part, entry.rest), boundsOf(entry), candidate);
        if (match) {
          let group = byCve.get(row.cve_key);
          if (!group) {
            group = { rows: [], hits: [] };
            byCve.set(row.cve_key, group);
          }
          group.hits.push({ row: criterionRow(row.cve_key, row.part, vendor, product, entry), match });
        }
      }
    }
    // A hit CVE's other entries for this product: fixed releases and advice read them. Kept in
    // the order the index gives them, the hit rows among them, as before.
    for (const row of productRows) {
      const group = byCve.get(row.cve_key);
      if (!group) continue;
      for (const entry of row.entries) {
        const hit = group.hits.find((candidateHit) => candidateHit.row.position === entry.position && candidateHit.row.part === row.part);
        group.rows.push(hit ? hit.row : criterionRow(row.cve_key, row.part, vendor, product, entry));
      }
    }
    const possiblyBackported = isDistroRevision(context.distro);
    const upstream = upstreamOf(candidate);
    const distroPackage = distroStatus !== undefined && upstream !== undefined ? distroPackageOf(candidate.product.text, upstream, context.distro) : undefined;
    const label = productLabel(cpeText);
    const formatted = formatCpe(candidate);
    const findings: Finding[] = [];
    const decided: [number, Decision, { rows: CriterionRow[]; hits: Hit[] }][] = [];
    for (const [key, group] of byCve) {
      const decision = decide(key, group.hits, candidate, platforms);
      if (decision) decided.push([key, decision, group]);
    }
    // One query for every decided CVE: a lookup of a product with many CVEs pays one statement.
    const summaries = store.summaries(decided.map(([key]) => key));
    for (const [key, decision, group] of decided) {
      const summary = summaries.get(key);
      if (!summary) continue;
      if (context.minScore !== undefined && summary.score !== null && summary.score < context.minScore) continue;
      const fixed = fixedIn(group.rows, candidate);
      const distro =
        distroPackage && distroStatus
          ? decideDistroVerdict(distroPackage, summary.id, distroStatus(distroPackage.distro, distroPackage.sourcePackage, summary.id))
          : undefined;
      // A tracker verdict settles the backport question; only 'unknown' leaves it open.
      const backported = possiblyBackported && (distro === undefined || distro.status === 'unknown');
      const confidence = confidenceOf(decision.assumptions, backported);
      findings.push({
        cve_id: summary.id,
        description: summary.description,
        published: summary.published,
        last_modified: summary.last_modified,
        vuln_status: summary.vuln_status,
        score: summary.score,
        severity: summary.severity,
        cvss_version: summary.score_version,
        vector: summary.vector,
        score_source: summary.score_source,
        score_type: summary.score_type,
        cwes: JSON.parse(summary.cwes) as string[],
        cpe: formatted,
        matched_criteria: decision.row.criteria,
        affected: describeRange(decision.row),
        version: rangeVersion(candidate) ?? '*',
        fixed_in: fixed,
        confidence,
        confidence_level: confidenceLevel(confidence),
        possibly_backported: backported,
        assumptions: decision.assumptions.map((assumption) => assumption.text),
        advice: buildAdvice({
          cveId: summary.id,
          label,
          candidate,
          matchedRow: decision.row,
          productRows: group.rows,
          fixed,
          references: summary.adviceReferences,
          distro: context.distro,
          possiblyBackported: backported,
        }),
        ...(distro ? { distro } : {}),
      });
    }
    return findings.sort((x, y) => (y.score ?? -1) - (x.score ?? -1) || (x.cve_id < y.cve_id ? -1 : 1));
  }

  /**
   * For the scan pipeline: a detected service (its CPE, or product and version) to findings.
   * A product known under several CPE names (nginx) is matched under each, one finding per CVE.
   */
  function matchService(service: DetectedService, context: Omit<MatchContext, 'distro'> = {}): Finding[] {
    const candidates = serviceCandidates(service, store.vendorsOfProduct);
    const byId = new Map<string, Finding>();
    for (const cpe of candidates.cpes) {
      for (const finding of matchCpe(cpe, { ...context, distro: candidates.distro })) {
        const seen = byId.get(finding.cve_id);
        if (!seen || finding.confidence > seen.confidence) byId.set(finding.cve_id, finding);
      }
    }
    return [...byId.values()].sort((x, y) => (y.score ?? -1) - (x.score ?? -1) || (x.cve_id < y.cve_id ? -1 : 1));
  }

  return { matchCpe, matchService };
}

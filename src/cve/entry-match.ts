import { routerOsChannelOfSwEdition } from '../shared/routeros-version.js';
import { parseCpe, sameValue, valueText, type Cpe, type CpeAttributeName, type CpeValue } from './cpe.js';
import type { NvdConfiguration, NvdNode } from './nvd-schema.js';
import { compareVersions, hasBounds, isPreRelease, withinBounds, type VersionBounds } from './version.js';

/**
 * Whether one NVD cpeMatch entry names a host's CPE, and whether a whole configuration
 * (AND/OR nodes, negate) holds for a host. A candidate attribute that is ANY means the scan
 * did not learn it: the entry still matches, and the condition is recorded as assumed.
 */

export type Assumption = { kind: 'attribute' | 'platform' | 'pre_release'; text: string };

/** Attributes the scan may not know; a criterion's value for them is assumed, not refused. */
const assumable: readonly CpeAttributeName[] = ['update', 'edition', 'language', 'sw_edition', 'target_sw', 'target_hw', 'other'];

function describeAssumed(cpe: Cpe, attribute: CpeAttributeName, value: CpeValue): string {
  const text = valueText(value);
  if (attribute === 'sw_edition' && valueText(cpe.vendor) === 'mikrotik')
    return `assumed the ${routerOsChannelOfSwEdition[text] ?? text} channel (the scan did not learn the channel)`;
  return `assumed ${attribute} ${text === '-' ? 'is not applicable' : `= ${text}`} (the scan did not learn it)`;
}

function sameIdentity(criterion: CpeValue, candidate: CpeValue): boolean {
  if (criterion.kind === 'any' || candidate.kind === 'any') return true;
  if (criterion.kind === 'na' || candidate.kind === 'na') return criterion.kind === candidate.kind;
  return sameValue(criterion, candidate);
}

/**
 * The version a range is compared with: a pre-release update joins the version
 * (RouterOS `7.1` + `beta4` is `7.1beta4`, before `7.1`), while any other update stays apart
 * (OpenSSH `9.2` + `p1` is version 9.2 in NVD's ranges).
 */
export function rangeVersion(candidate: Cpe): string | undefined {
  if (candidate.version.kind !== 'value') return undefined;
  const update = candidate.update;
  return update.kind === 'value' && isPreRelease(update.text) ? `${candidate.version.text}${update.text}` : candidate.version.text;
}

/** Every attribute except the version: the entries of one "branch" a fixed release is looked for in. */
export function matchesExceptVersion(criterion: Cpe, candidate: Cpe): Assumption[] | null {
  if (!sameIdentity(criterion.part, candidate.part) || !sameIdentity(criterion.vendor, candidate.vendor) || !sameIdentity(criterion.product, candidate.product))
    return null;
  const assumptions: Assumption[] = [];
  for (const attribute of assumable) {
    const wanted = criterion[attribute];
    const seen = candidate[attribute];
    if (wanted.kind === 'any') continue;
    if (seen.kind === 'any') {
      assumptions.push({ kind: 'attribute', text: describeAssumed(candidate, attribute, wanted) });
      continue;
    }
    if (wanted.kind === 'na' || seen.kind === 'na') {
      if (wanted.kind !== seen.kind) return null;
      continue;
    }
    if (!sameValue(wanted, seen)) return null;
  }
  return assumptions;
}

function versionMatches(criterion: Cpe, bounds: VersionBounds, candidate: Cpe): boolean {
  const wanted = criterion.version;
  const seen = candidate.version;
  if (wanted.kind === 'any') {
    // Without a version the scan cannot place a host in a range; "all versions" still holds.
    const version = rangeVersion(candidate);
    if (version === undefined) return !hasBounds(bounds);
    return withinBounds(version, bounds);
  }
  if (wanted.kind === 'na') return seen.kind === 'na';
  if (seen.kind !== 'value') return false;
  // Exact versions NVD lists one by one: the same release however it is written (2.3 = 2.3.0).
  return (sameValue(wanted, seen) || compareVersions(wanted.text, seen.text) === 0) && withinBounds(seen.text, bounds);
}

export interface EntryMatch {
  assumptions: Assumption[];
}

/** Whether a cpeMatch entry (its criteria and bounds) names the candidate CPE. */
export function matchEntry(criterion: Cpe, bounds: VersionBounds, candidate: Cpe): EntryMatch | null {
  const assumptions = matchesExceptVersion(criterion, candidate);
  if (assumptions === null || !versionMatches(criterion, bounds, candidate)) return null;
  const version = rangeVersion(candidate);
  const update = candidate.update;
  if (version !== undefined && update.kind === 'value' && isPreRelease(update.text) && bounds.versionEndExcluding !== undefined) {
    // 6.42.7rc1 sorts before 6.42.7, so it lies in "< 6.42.7"; but fixes reach the testing
    // channel first, so the pre-release may already carry this one.
    if (compareVersions(candidate.version.kind === 'value' ? candidate.version.text : '', bounds.versionEndExcluding) === 0) {
      assumptions.push({
        kind: 'pre_release',
        text: `${version} is a pre-release of the fixed release ${bounds.versionEndExcluding} and may already carry the fix`,
      });
    }
  }
  return { assumptions };
}

interface NodeResult {
  holds: boolean;
  assumptions: Assumption[];
}

function fewest<T extends { assumptions: Assumption[] }>(options: readonly T[]): T | undefined {
  return [...options].sort((a, b) => a.assumptions.length - b.assumptions.length)[0];
}

function summarise(node: NvdNode): string {
  const names = node.cpeMatch.map((entry) => {
    const cpe = parseCpe(entry.criteria);
    const version = valueText(cpe.version);
    return `${valueText(cpe.vendor)} ${valueText(cpe.product)}${version === '*' || version === '-' ? '' : ` ${version}`}`;
  });
  const unique = [...new Set(names)];
  return unique.length <= 3 ? unique.join(', ') : `${unique.slice(0, 3).join(', ')} or ${unique.length - 3} more`;
}

/**
 * A node that does not concern the candidate: does some host CPE satisfy it? When the host's
 * platforms of that part (OS `o`, hardware `h`, software `a`) were not observed at all, the
 * node cannot be decided, and holds as an assumption; when they were observed, it is decided.
 */
function evaluatePlatformNode(node: NvdNode, host: readonly Cpe[], observedParts: ReadonlySet<string>): NodeResult {
  const matches: EntryMatch[] = [];
  for (const entry of node.cpeMatch) {
    const criterion = parseCpe(entry.criteria);
    for (const cpe of host) {
      const match = matchEntry(criterion, entry, cpe);
      if (match) matches.push(match);
    }
  }
  const best = fewest(matches);
  const parts = new Set(node.cpeMatch.map((entry) => valueText(parseCpe(entry.criteria).part)));
  const decidable = [...parts].some((part) => observedParts.has(part));
  if (node.negate) {
    if (best) return { holds: false, assumptions: [] };
    return { holds: true, assumptions: decidable ? [] : [{ kind: 'platform', text: `assumed the host does not run ${summarise(node)}` }] };
  }
  if (best) return { holds: true, assumptions: best.assumptions };
  if (decidable) return { holds: false, assumptions: [] };
  return { holds: true, assumptions: [{ kind: 'platform', text: `assumed the host runs ${summarise(node)} (not observed by the scan)` }] };
}

/**
 * Evaluates one configuration for a host whose candidate CPE matched the vulnerable entry at
 * `position` (positions count cpeMatch entries across the record's configurations, from 1).
 */
export function evaluateConfiguration(
  configuration: NvdConfiguration,
  firstPosition: number,
  matched: ReadonlyMap<number, EntryMatch>,
  candidate: Cpe,
  platforms: readonly Cpe[],
): NodeResult {
  const host = [candidate, ...platforms];
  const observedParts = new Set(platforms.map((cpe) => valueText(cpe.part)));
  let position = firstPosition;
  const results: NodeResult[] = [];
  const ownResults: NodeResult[] = [];
  for (const node of configuration.nodes) {
    const own = node.cpeMatch.map((_, index) => matched.get(position + index)).filter((match): match is EntryMatch => match !== undefined);
    position += node.cpeMatch.length;
    const best = fewest(own);
    if (best && !node.negate) {
      const result = { holds: true, assumptions: best.assumptions };
      results.push(result);
      ownResults.push(result);
    } else {
      results.push(evaluatePlatformNode(node, host, observedParts));
    }
  }
  // An element without an operator has one node; several nodes without one are read as AND,
  // the stricter reading.
  const anyNode = configuration.operator === 'OR' && configuration.nodes.length > 1;
  let outcome: NodeResult;
  if (anyNode) {
    // The candidate's own node decides: another node holding says nothing about this host's product.
    outcome = fewest(ownResults) ?? { holds: false, assumptions: [] };
  } else {
    outcome = results.every((result) => result.holds)
      ? { holds: true, assumptions: results.flatMap((result) => result.assumptions) }
      : { holds: false, assumptions: [] };
  }
  return configuration.negate ? { holds: !outcome.holds, assumptions: [] } : outcome;
}

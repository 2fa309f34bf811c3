import type { EpssScore, KevEntry } from './intel.js';

/** How a service is reachable from outside the site, as read from the router's configuration. */
export interface Exposure {
  kind: 'dstnat' | 'router-service' | 'upnp';
  detail: string;
}

/** The facts that decide a finding's place in the fix-first order. */
export interface PriorityFacts {
  cve_id: string;
  score: number | null;
  kev: KevEntry | null;
  epss: EpssScore | null;
  exposure: readonly Exposure[];
  /** Why exposure could not be read (router menus missing, no router read); said, not ranked. */
  exposure_unknown?: string | null;
}

/** A finding's place in the fix-first order (1 = fix first) and the reasons, one short phrase each. */
export interface Priority {
  rank: number;
  why: string[];
}

/**
 * The tier decides first: exposed and known-exploited (0), known-exploited (1), exposed (2),
 * neither (3). Reachable-from-WAN UPnP alone counts as exposure because any LAN host may open ports.
 */
function tier(facts: PriorityFacts): number {
  const exposed = facts.exposure.length > 0;
  if (facts.kev !== null) return exposed ? 0 : 1;
  return exposed ? 2 : 3;
}

/** 99th, 93rd, 82nd, 71st, 11th-13th. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

const percentile = (value: number): string => `${ordinal(Math.floor(value * 100))} pct`;

/** The reasons in words: "KEV since 2024-05-01 (ransomware)", the exposures, "EPSS 0.94 (99th pct)", "CVSS 9.8". */
export function whyOf(facts: PriorityFacts): string[] {
  const why: string[] = [];
  if (facts.kev !== null) why.push(`KEV since ${facts.kev.date_added}${facts.kev.ransomware ? ' (ransomware)' : ''}`);
  for (const exposure of facts.exposure) why.push(exposure.detail);
  if (facts.exposure.length === 0 && facts.exposure_unknown) why.push(`exposure unknown: ${facts.exposure_unknown}`);
  if (facts.epss !== null) why.push(`EPSS ${facts.epss.score.toFixed(2)} (${percentile(facts.epss.percentile)})`);
  why.push(facts.score === null ? 'CVSS unscored' : `CVSS ${facts.score.toFixed(1)}`);
  return why;
}

/** Fix-first comparison: tier, then EPSS (higher first), then CVSS (higher first), then CVE id for a stable order. */
export function compareFixFirst(a: PriorityFacts, b: PriorityFacts): number {
  return tier(a) - tier(b) || (b.epss?.score ?? -1) - (a.epss?.score ?? -1) || (b.score ?? -1) - (a.score ?? -1) || a.cve_id.localeCompare(b.cve_id);
}

/** Sorts findings fix-first and gives each its `priority` (rank from 1) with the why lines. */
export function prioritise<T extends PriorityFacts>(findings: readonly T[]): (T & { priority: Priority })[] {
  return [...findings].sort(compareFixFirst).map((finding, index) => ({ ...finding, priority: { rank: index + 1, why: whyOf(finding) } }));
}

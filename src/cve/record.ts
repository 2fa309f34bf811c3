import type { NvdConfiguration, NvdCve, NvdMetrics } from './nvd-schema.js';

/**
 * What the agent keeps of an NVD record: the fields a finding, a report or a re-evaluation
 * needs, in a compact form. The configurations are kept whole (every node and cpeMatch) so
 * AND/negate statements can be evaluated exactly at match time.
 */

export type CvssVersion = '4.0' | '3.1' | '3.0' | '2.0';

export interface CveMetric {
  version: CvssVersion;
  source: string;
  type: 'Primary' | 'Secondary';
  score: number;
  severity: string | null;
  vector: string;
}

export interface CveReference {
  url: string;
  tags: string[];
}

export interface CveRecord {
  id: string;
  published: string;
  lastModified: string;
  vulnStatus: string;
  description: string;
  metrics: CveMetric[];
  /** The score a finding shows (see pickScore), or null when NVD gives none. */
  score: CveMetric | null;
  cwes: string[];
  references: CveReference[];
  configurations: NvdConfiguration[];
}

const metricLists = [
  ['3.1', 'cvssMetricV31'],
  ['3.0', 'cvssMetricV30'],
  ['4.0', 'cvssMetricV40'],
  ['2.0', 'cvssMetricV2'],
] as const satisfies readonly (readonly [CvssVersion, keyof NvdMetrics])[];

function collectMetrics(metrics: NvdMetrics): CveMetric[] {
  const out: CveMetric[] = [];
  for (const [version, key] of metricLists) {
    for (const entry of metrics[key] ?? []) {
      const severity = 'baseSeverity' in entry.cvssData ? entry.cvssData.baseSeverity : 'baseSeverity' in entry ? entry.baseSeverity : undefined;
      out.push({
        version,
        source: entry.source,
        type: entry.type,
        score: entry.cvssData.baseScore,
        severity: severity ?? null,
        vector: entry.cvssData.vectorString,
      });
    }
  }
  return out;
}

/**
 * The score NVD marks Primary (its own analysis), preferring v3.1, then v3.0, then v4.0,
 * then v2; without a Primary score, a Secondary one (the CNA's) in the same order.
 * `metrics` is already in that version order.
 */
export function pickScore(metrics: readonly CveMetric[]): CveMetric | null {
  return metrics.find((metric) => metric.type === 'Primary') ?? metrics[0] ?? null;
}

export function toCveRecord(cve: NvdCve): CveRecord {
  const metrics = collectMetrics(cve.metrics);
  const description = cve.descriptions.find((entry) => entry.lang === 'en')?.value ?? cve.descriptions[0]?.value ?? '';
  const cwes = [...new Set(cve.weaknesses.flatMap((weakness) => weakness.description.filter((entry) => entry.lang === 'en').map((entry) => entry.value)))];
  return {
    id: cve.id,
    published: cve.published,
    lastModified: cve.lastModified,
    vulnStatus: cve.vulnStatus,
    description,
    metrics,
    score: pickScore(metrics),
    cwes,
    references: cve.references.map((reference) => ({ url: reference.url, tags: reference.tags ?? [] })),
    configurations: cve.configurations,
  };
}

/** References whose tags make them advice: what to install or do about a CVE. */
export const adviceTags: ReadonlySet<string> = new Set(['Patch', 'Vendor Advisory', 'Mitigation']);

export function isRejected(record: { vulnStatus: string }): boolean {
  return record.vulnStatus === 'Rejected';
}

import { z } from 'zod';

/**
 * The NVD CVE API 2.0 shapes cve-agent reads, validated at the boundary. Objects are not
 * strict: NVD adds fields over time (cveTags, cisaExploitAdd, ssvcV203 …) and a new field
 * must not turn a good record into a malformed one. Only what the agent keeps is checked.
 */

/** NVD writes times without a zone; they are UTC. */
const nvdTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/, { error: 'expected an ISO 8601 time' })
  .transform((text) => new Date(/(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`).toISOString());

const langString = z.object({ lang: z.string(), value: z.string() });

const cvss3or4Data = z.object({
  version: z.string(),
  vectorString: z.string().min(1),
  baseScore: z.number().min(0).max(10),
  baseSeverity: z.string(),
});

const metricCommon = { source: z.string(), type: z.enum(['Primary', 'Secondary']) };
const cvss3or4Metric = z.object({ ...metricCommon, cvssData: cvss3or4Data });
// v2 keeps its severity beside cvssData, not inside it.
const cvss2Metric = z.object({
  ...metricCommon,
  cvssData: z.object({ version: z.string(), vectorString: z.string().min(1), baseScore: z.number().min(0).max(10) }),
  baseSeverity: z.string().optional(),
});

export const nvdMetricsSchema = z.object({
  cvssMetricV40: z.array(cvss3or4Metric).optional(),
  cvssMetricV31: z.array(cvss3or4Metric).optional(),
  cvssMetricV30: z.array(cvss3or4Metric).optional(),
  cvssMetricV2: z.array(cvss2Metric).optional(),
});

const bound = z.string().min(1).optional();

/**
 * A CPE 2.3 formatted string: prefix, a part, ten more attributes; in each, quoted characters
 * (`\+`) and unquoted wildcards only at either end. A regular expression rather than the parser
 * because it runs on millions of entries; parseCpe accepts every string it accepts.
 */
const cpeComponent = String.raw`[*?]*(?:[^:\\*?\s]|\\.)*[*?]*`;
const cpeShape = new RegExp(String.raw`^cpe:2\.3:[aoh*](?::${cpeComponent}){10}$`);

export const nvdCpeMatchSchema = z.object({
  vulnerable: z.boolean(),
  criteria: z.string().regex(cpeShape, { error: 'expected a CPE 2.3 formatted string' }),
  matchCriteriaId: z.string().optional(),
  versionStartIncluding: bound,
  versionStartExcluding: bound,
  versionEndIncluding: bound,
  versionEndExcluding: bound,
});

const operator = z.enum(['AND', 'OR']);

export const nvdNodeSchema = z.object({
  operator: operator.default('OR'),
  negate: z.boolean().default(false),
  cpeMatch: z.array(nvdCpeMatchSchema),
});

export const nvdConfigurationSchema = z.object({
  operator: operator.optional(),
  negate: z.boolean().default(false),
  nodes: z.array(nvdNodeSchema).min(1),
});

export const nvdReferenceSchema = z.object({
  url: z.string().min(1),
  source: z.string().optional(),
  tags: z.array(z.string()).optional(),
});

export const nvdCveSchema = z.object({
  id: z.string().regex(/^CVE-\d{4}-\d{4,}$/, { error: 'expected an id like CVE-2024-6387' }),
  published: nvdTime,
  lastModified: nvdTime,
  vulnStatus: z.string().min(1),
  descriptions: z.array(langString),
  metrics: nvdMetricsSchema.default({}),
  weaknesses: z.array(z.object({ source: z.string().optional(), type: z.string().optional(), description: z.array(langString) })).default([]),
  configurations: z.array(nvdConfigurationSchema).default([]),
  references: z.array(nvdReferenceSchema).default([]),
});

export type NvdCve = z.output<typeof nvdCveSchema>;
export type NvdConfiguration = z.output<typeof nvdConfigurationSchema>;
export type NvdNode = z.output<typeof nvdNodeSchema>;
export type NvdCpeMatch = z.output<typeof nvdCpeMatchSchema>;
export type NvdMetrics = z.output<typeof nvdMetricsSchema>;

/**
 * A page of the CVE API (`/rest/json/cves/2.0`). The records inside are validated one by
 * one afterwards, so one malformed record never rejects the page.
 */
export const nvdPageSchema = z.object({
  resultsPerPage: z.int().min(0),
  startIndex: z.int().min(0),
  totalResults: z.int().min(0),
  format: z.string().optional(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
  vulnerabilities: z.array(z.object({ cve: z.unknown() })),
});

export type NvdPage = z.output<typeof nvdPageSchema>;

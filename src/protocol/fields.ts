/**
 * Field shapes shared by the messages of the agent <-> control-plane protocol. Each message
 * schema is strict (unknown keys are a malformed frame), so a typo in a peer fails loudly.
 */
import { z } from 'zod';
import { CVE_ID_EXAMPLE, CVE_ID_PATTERN } from '../shared/cve-id.js';
import { isCanonicalIPv4, subnetProblem } from '../shared/ipv4.js';
import { MAC_PATTERN } from '../shared/mac.js';
import { SEVERITIES } from '../shared/severity.js';

export const uuid = z.uuid();
export const utcTime = z.iso.datetime({ offset: true });
export const seq = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
/** 0 means "nothing yet". */
export const seqOrZero = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
export const ipv4 = z.string().refine(isCanonicalIPv4, 'must be an IPv4 address such as 192.168.88.1');
/** Upper-case, colon-separated: the form the API returns and the form the agent sends. */
export const mac = z.string().regex(MAC_PATTERN, 'must be an upper-case MAC such as 4C:5E:0C:12:34:56');
export const cveId = z.string().regex(CVE_ID_PATTERN, `must be a CVE id such as ${CVE_ID_EXAMPLE}`);
/** A site subnet by the kernel's rule: canonical CIDR, /22 to /32, no host bits. */
export const subnet = z.string().superRefine((value, ctx) => {
  const problem = subnetProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
export const cvssScore = z.number().min(0).max(10);
export const severity = z.enum(SEVERITIES);
export const port = z.int().min(1).max(65535);
/** Bounded text: no single field can balloon a frame past what it carries in practice. */
export const text = (max: number) => z.string().max(max);

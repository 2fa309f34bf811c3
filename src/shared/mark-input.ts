/**
 * The input rules of an accepted/mitigated mark, one place for the agent's CLI, the protocol's
 * vuln.mark command and the REST API: the status values, the justification's bounds and the
 * expiry, which must lie in the future when the mark is made.
 */
import { z } from 'zod';

/** What a mark says of a CVE on a device, everywhere a mark travels. */
export const MARK_STATUSES = ['accepted', 'mitigated'] as const;
export type MarkStatus = (typeof MARK_STATUSES)[number];

/** The agent's CLI may also record `open`: a local mark that clears an earlier one on this site. */
export const LOCAL_MARK_STATUSES = [...MARK_STATUSES, 'open'] as const;

export const JUSTIFICATION_MIN = 10;
export const JUSTIFICATION_MAX = 1000;
const justificationMessage = `must be ${JUSTIFICATION_MIN} to ${JUSTIFICATION_MAX} characters`;

export const markStatusSchema = z.enum(MARK_STATUSES, { error: 'must be accepted or mitigated' });
export const localMarkStatusSchema = z.enum(LOCAL_MARK_STATUSES, { error: 'must be accepted, mitigated or open' });
export const justificationSchema = z.string().min(JUSTIFICATION_MIN, justificationMessage).max(JUSTIFICATION_MAX, justificationMessage);

export const EXPIRY_EXAMPLE = '2027-06-30T00:00:00Z';
const isoTime = z.iso.datetime({ offset: true });

/**
 * Why `expires` cannot end a mark made at `now`, or undefined when it can: it must be an ISO 8601
 * time with a zone, and later than now (a mark that expired when made would never apply).
 */
export function expiryProblem(expires: string, now: Date): string | undefined {
  if (!isoTime.safeParse(expires).success) return `must be an ISO 8601 time with a zone, such as ${EXPIRY_EXAMPLE}`;
  if (Date.parse(expires) <= now.getTime()) return `must be in the future (it is ${now.toISOString()} now)`;
  return undefined;
}

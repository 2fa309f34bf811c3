import { z } from 'zod';
import { AgentError } from '../errors.js';
import { CVE_ID_EXAMPLE, CVE_ID_INPUT_PATTERN, normalizeCveId } from '../../shared/cve-id.js';
import { isCanonicalIPv4 } from '../../shared/ipv4.js';
import { normalizeMac } from '../../shared/mac.js';

const markInputSchema = z.strictObject({
  device: z.string().refine((value) => normalizeMac(value) !== undefined || isCanonicalIPv4(value), {
    error: 'expected a MAC (XX:XX:XX:XX:XX:XX) or an IPv4 address',
  }),
  cve_id: z
    .string()
    .regex(CVE_ID_INPUT_PATTERN, { error: `expected a CVE id such as ${CVE_ID_EXAMPLE}` })
    .transform((value) => normalizeCveId(value) as string),
  status: z.enum(['accepted', 'mitigated', 'open'], { error: 'expected accepted, mitigated or open' }),
  justification: z.string().min(10, { error: 'expected 10 to 1000 characters' }).max(1000, { error: 'expected 10 to 1000 characters' }),
  author: z.string().min(1),
  expires: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2027-06-30T00:00:00Z' }).optional(),
});

/** A mark as typed by an operator or sent by the control plane: MACs are kept upper-case with colons, as the API returns them. */
export function parseMarkInput(input: unknown) {
  const parsed = markInputSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AgentError('AGENT_ERR_MARK_INVALID', `invalid mark:\n  ${lines.join('\n  ')}`, { details: lines });
  }
  const { device, cve_id, status, justification, author, expires } = parsed.data;
  const mac = normalizeMac(device) ?? null;
  return {
    mac,
    ip: mac === null ? device : null,
    cve_id,
    status,
    justification,
    author,
    expires_at: expires ? new Date(expires).toISOString() : null,
  };
}

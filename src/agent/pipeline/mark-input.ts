import { z } from 'zod';
import { AgentError } from '../errors.js';
import { CVE_ID_EXAMPLE, CVE_ID_INPUT_PATTERN, normalizeCveId } from '../../shared/cve-id.js';
import { isCanonicalIPv4 } from '../../shared/ipv4.js';
import { normalizeMac } from '../../shared/mac.js';
import { expiryProblem, justificationSchema, localMarkStatusSchema } from '../../shared/mark-input.js';
import { formatIssues } from '../../shared/zod-issues.js';

const markInputSchema = (now: Date) =>
  z.strictObject({
    device: z.string().refine((value) => normalizeMac(value) !== undefined || isCanonicalIPv4(value), {
      error: 'must be a MAC (XX:XX:XX:XX:XX:XX) or an IPv4 address',
    }),
    cve_id: z
      .string()
      .regex(CVE_ID_INPUT_PATTERN, { error: `must be a CVE id such as ${CVE_ID_EXAMPLE}` })
      .transform((value) => normalizeCveId(value) as string),
    status: localMarkStatusSchema,
    justification: justificationSchema,
    author: z.string().min(1),
    expires: z
      .string()
      .superRefine((value, ctx) => {
        const problem = expiryProblem(value, now);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  });

/**
 * A mark as typed by an operator, made at `now`: MACs are kept upper-case with colons and CVE ids
 * upper-case, as the API returns them; the rules are the control plane's (src/shared/mark-input.ts).
 */
export function parseMarkInput(input: unknown, now: Date) {
  const parsed = markInputSchema(now).safeParse(input);
  if (!parsed.success) {
    const lines = formatIssues(parsed.error.issues, input);
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

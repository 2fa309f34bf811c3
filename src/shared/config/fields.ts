/**
 * The zod pieces both daemons' config schemas are built from, so a port, a path or a secret is
 * checked, and its mistake worded, the same way in cve-agent's and cve-control-plane's files.
 * Each message says what was expected; src/shared/zod-issues.ts adds the path and what was found.
 */
import { z } from 'zod';

export const intRange = (lo: number, hi: number) => {
  const error = `expected integer ${lo}..${hi}`;
  return z.int({ error }).min(lo, { error }).max(hi, { error });
};

export const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .trim()
    .min(1, { error: `expected ${what}` });

export const envName = z
  .string({ error: 'expected an environment variable name' })
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' });

/**
 * The three keys of a secret: inline, in a file (a systemd credential), or in an environment
 * variable. An empty inline value is allowed only where empty means something (a router with no
 * password); resolution is src/shared/config/kit.ts's `resolveSecret`.
 */
export const secretKeys = <N extends string>(name: N, options: { allowEmptyInline?: boolean } = {}) => {
  const inline = options.allowEmptyInline
    ? z.string({ error: 'expected a string' })
    : z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty secret' });
  return {
    [name]: inline.optional(),
    [`${name}_file`]: nonEmpty('a file path').optional(),
    [`${name}_env`]: envName.optional(),
  } as Record<N | `${N}_file` | `${N}_env`, z.ZodOptional<z.ZodString>>;
};

/** A refinement: at most one of `keys` (at least one when `required`), named in the message. */
export const exactlyOneOf = (keys: readonly string[], required: boolean) => (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
  const given = keys.filter((key) => value[key] !== undefined);
  if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1] as string], message: `give only one of ${given.join(', ')}` });
  if (required && given.length === 0) ctx.addIssue({ code: 'custom', path: [], message: `expected one of ${keys.join(', ')}` });
};

/** The secret keys of `name`, for `exactlyOneOf`. */
export const secretKeyNames = (name: string): string[] => [name, `${name}_file`, `${name}_env`];

/**
 * zod issues -> messages, one module for both surfaces: config lines ("router.port: expected
 * integer 1..65535, got \"abc\"") and REST field errors ({field, code, kind, message}). One value
 * describer for "got ..."; one path renderer per surface.
 */
import type { z } from 'zod';

type Path = readonly PropertyKey[];
type Issue = z.core.$ZodIssue;

/** What was found, for "got ...": `"abc"` (quoted, cut at 60), `70000`, `true`, `null`, `an array`, `an object`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** The config surface's path, and the REST `field`: `sites.0.subnet`. */
const dotted = (path: Path): string => path.map(String).join('.');

/** The REST message's path: `sites[0].subnet`, `body` for the whole body. */
const bracketed = (path: Path): string =>
  path.length === 0 ? 'body' : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/** Config files: one line per problem, `router.port: expected integer 1..65535, got "abc"`. */
export function formatIssues(issues: readonly Issue[], input: unknown, prefix: Path = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${dotted([...path, key])}: unknown key`);
      continue;
    }
    const where = path.length > 0 ? dotted(path) : '(top level)';
    lines.push(`${where}: ${issue.message}, got ${describeValue(valueAt(input, issue.path))}`);
  }
  return lines;
}

/**
 * A REST body's problem. `kind` lets the caller choose the status: 'type' (missing, wrong JSON
 * type, unknown field) is a malformed body (400), 'rule' is a well-formed body that breaks a rule (422).
 */
export interface FieldError {
  field: string;
  code: 'parameter_missing' | 'parameter_invalid';
  kind: 'type' | 'rule';
  message: string;
}

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
};

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

function fieldErrorsOf(issue: Issue): FieldError[] {
  const at = (path: Path, code: FieldError['code'], kind: FieldError['kind'], text: string): FieldError => ({
    field: dotted(path),
    code,
    kind,
    message: `${bracketed(path)}: ${text}`,
  });
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => at([...issue.path, key], 'parameter_invalid', 'type', 'is not a known field'));
  }
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return [at(issue.path, 'parameter_missing', 'type', 'is required')];
    const expected = EXPECTED[issue.expected] ?? article(issue.expected);
    return [at(issue.path, 'parameter_invalid', 'type', `must be ${expected}, got ${describeValue(issue.input)}`)];
  }
  // A custom rule words its own message, naming the value when it matters.
  const got = issue.input === undefined || issue.code === 'custom' ? '' : `, got ${describeValue(issue.input)}`;
  return [at(issue.path, 'parameter_invalid', 'rule', `${issue.message}${got}`)];
}

/** REST bodies: the issues of a `safeParse(body, { reportInput: true })` as field errors. */
export function toFieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.flatMap(fieldErrorsOf);
}

import type { z } from 'zod';

/** Renders what the file held at a path, so the message can say "got ...". */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a map';
  return String(value);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** One line per problem: `router.port: expected integer 1..65535, got "abc"`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${[...path, key].join('.')}: unknown key`);
      continue;
    }
    const where = path.length > 0 ? path.join('.') : '(top level)';
    lines.push(`${where}: ${issue.message}, got ${describeValue(valueAt(input, issue.path))}`);
  }
  return lines;
}

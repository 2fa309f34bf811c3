import { consoleLines } from './console-text.js';
import type { ConsoleEntry } from './entries.js';

interface Column {
  name: string;
  start: number;
}

const header = /^\s*#\s+[A-Z]/;

/** True when the output is a column table (`print` without terse/detail) rather than key=value items. */
export const isColumnTable = (text: string): boolean => consoleLines(text).some((line) => header.test(line));

/**
 * Parses the fixed-width tables of a plain `print`. Cells are placed by where each word
 * starts, not by slicing at the header's offsets: real captures are off by a column now and
 * then, and empty cells leave gaps. A word belongs to the last column starting at most one
 * character after it; words before the first column are the item number and flags.
 */
export function parseColumnTable(text: string): ConsoleEntry[] {
  const lines = consoleLines(text);
  const at = lines.findIndex((line) => header.test(line));
  if (at < 0) return [];
  const columns: Column[] = [];
  const headerLine = lines[at] ?? '';
  for (const match of headerLine.matchAll(/[A-Z][A-Z0-9-]*/g)) columns.push({ name: match[0].toLowerCase(), start: match.index });
  const entries: ConsoleEntry[] = [];
  let comment: string | undefined;
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') continue;
    if (/^\s*;;;/.test(line)) {
      comment = line.replace(/^\s*;;;\s?/, '').trimEnd();
      continue;
    }
    const values: Record<string, string> = {};
    const prefix: string[] = [];
    for (const word of line.matchAll(/\S+/g)) {
      const column = [...columns].reverse().find((candidate) => candidate.start <= word.index + 1);
      if (column === undefined) {
        prefix.push(word[0]);
        continue;
      }
      values[column.name] = values[column.name] === undefined ? word[0] : `${values[column.name]} ${word[0]}`;
    }
    const index = prefix[0] !== undefined && /^\d+$/.test(prefix[0]) ? Number(prefix.shift()) : undefined;
    const entry: ConsoleEntry = { index, flags: prefix.join(''), values };
    if (comment !== undefined) entry.comment = comment;
    comment = undefined;
    entries.push(entry);
  }
  return entries;
}

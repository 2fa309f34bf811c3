import { consoleLines, unescapeQuoted } from './console-text.js';

/** One printed item: its number, its flag letters, its properties. */
export interface ConsoleEntry {
  index: number | undefined;
  flags: string;
  values: Record<string, string>;
  /** A `;;; comment` line printed above the item, if any. */
  comment?: string;
}

const entryStart = /^\s*(\d+)(?=\s|$)/;
const keyAt = /[A-Za-z0-9.][A-Za-z0-9._-]*=/y;
const legend = /^\s*(Flags|Columns):/;

/**
 * Parses `print terse`, `print detail` and plain key=value prints. An item starts with its
 * number; wrapped continuation lines (detail) join it; a blank line ends it.
 */
export function parseEntries(text: string): ConsoleEntry[] {
  const entries: ConsoleEntry[] = [];
  let current: string | undefined;
  let comment: string | undefined;
  const flush = () => {
    if (current !== undefined) entries.push(tokenizeEntry(current, comment));
    current = undefined;
    comment = undefined;
  };
  for (const line of consoleLines(text)) {
    if (line.trim() === '') {
      flush();
    } else if (legend.test(line)) {
      continue;
    } else if (/^\s*;;;/.test(line)) {
      flush();
      comment = line.replace(/^\s*;;;\s?/, '').trimEnd();
    } else if (entryStart.test(line)) {
      const pendingComment = current === undefined ? comment : undefined;
      flush();
      comment = pendingComment;
      current = line;
    } else if (current !== undefined) {
      current += ` ${line.trim()}`;
    }
  }
  flush();
  return entries;
}

/**
 * Splits `0 DC address=10.0.0.1 comment=two words host-name="a \"b\"" class-id=udhcp 1.37.0`.
 * Values are quoted with escapes, bare, or bare with spaces: a bare word that is not a
 * `key=` continues the value before it (RouterOS does not quote every value with a space).
 */
export function tokenizeEntry(line: string, comment?: string): ConsoleEntry {
  const start = entryStart.exec(line);
  let pos = start ? start[0].length : 0;
  const values: Record<string, string> = {};
  let flags = '';
  let lastKey: string | undefined;
  let seenKey = false;
  while (pos < line.length) {
    while (pos < line.length && /\s/.test(line[pos] ?? '')) pos++;
    if (pos >= line.length) break;
    keyAt.lastIndex = pos;
    const key = keyAt.exec(line);
    if (key === null) {
      const end = wordEnd(line, pos);
      const word = line.slice(pos, end);
      if (!seenKey) flags += word;
      else if (lastKey !== undefined) values[lastKey] = values[lastKey] === '' ? word : `${values[lastKey]} ${word}`;
      pos = end;
      continue;
    }
    const name = key[0].slice(0, -1);
    pos += key[0].length;
    if (line[pos] === '"') {
      const end = quotedEnd(line, pos);
      values[name] = unescapeQuoted(line.slice(pos + 1, end));
      pos = end + 1;
      // A quoted value is whole: nothing may continue it.
      lastKey = undefined;
      seenKey = true;
      continue;
    }
    const end = wordEnd(line, pos);
    values[name] = line.slice(pos, end);
    lastKey = name;
    seenKey = true;
    pos = end;
  }
  const entry: ConsoleEntry = { index: start ? Number(start[1]) : undefined, flags, values };
  if (comment !== undefined) entry.comment = comment;
  return entry;
}

function wordEnd(line: string, from: number): number {
  let end = from;
  while (end < line.length && !/\s/.test(line[end] ?? '')) end++;
  return end;
}

/** Index of the closing quote; an unterminated quote runs to the end of the line. */
function quotedEnd(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '"') return i;
  }
  return line.length;
}

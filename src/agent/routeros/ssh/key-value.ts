import { consoleLines, unquote } from './console-text.js';

const property = /^\s*([A-Za-z0-9][\w.-]*): ?(.*)$/;

/**
 * Parses the `key: value` prints of singleton menus (`/system resource print`): keys are
 * right-aligned with spaces or tabs, old RouterOS quotes some values, and a `;;;` note or an
 * echoed prompt may come first.
 */
export function parseKeyValue(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of consoleLines(text)) {
    if (/^\s*;;;/.test(line)) continue;
    const match = property.exec(line);
    if (match?.[1] === undefined) continue;
    values[match[1]] = unquote((match[2] ?? '').trim());
  }
  return values;
}

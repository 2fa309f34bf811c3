/**
 * Cuts an NVD API page (`{…, "vulnerabilities": [{"cve": …}, …]}`) into the bytes of each
 * element without decoding or parsing the page as a whole. A 2,000-record page decoded is a
 * 14-28 MB string and, parsed, an ~80 MB object graph that lives until its last record is
 * written; cut into elements, one record is decoded and parsed at a time. Only structure is
 * scanned here (strings skipped, brackets counted) and UTF-8 never puts an ASCII byte inside a
 * multi-byte character, so scanning bytes is exact. Every element is still parsed by
 * JSON.parse, and so is the page without its array.
 */

export interface SplitPage {
  /** The page with an empty vulnerabilities array, parsed: resultsPerPage, totalResults, timestamp … */
  wrapper: Record<string, unknown>;
  /** Each element of vulnerabilities as a view on the page's bytes, in order. */
  elements: Buffer[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
/** Comma and the four JSON whitespace characters. */
const betweenElements = new Set([0x2c, 0x20, 0x09, 0x0a, 0x0d]);
const whitespace = new Set([0x20, 0x09, 0x0a, 0x0d]);
const key = Buffer.from('"vulnerabilities"');

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(bytes: Buffer, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let k = quote - 1; bytes[k] === BACKSLASH; k -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** After the key: optional whitespace, a colon, optional whitespace, then `[`; its index or -1. */
function arrayAfterKey(bytes: Buffer, from: number): number {
  let i = from;
  while (whitespace.has(bytes[i] ?? -1)) i += 1;
  if (bytes[i] !== COLON) return -1;
  i += 1;
  while (whitespace.has(bytes[i] ?? -1)) i += 1;
  return bytes[i] === OPEN_BRACKET ? i : -1;
}

function decode(bytes: Buffer): string {
  return bytes.toString('utf8');
}

/**
 * Returns undefined when the bytes are not an object with a top-level vulnerabilities array of
 * objects (a single record, a wrapper, or broken JSON): the caller then parses them whole and
 * gets JSON.parse's own error for broken text.
 */
export function splitPage(bytes: Buffer): SplitPage | undefined {
  let depth = 0;
  let arrayStart = -1;
  let arrayEnd = -1;
  let elementStart = -1;
  const elements: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i] as number;
    // Between elements of the array only objects, commas and whitespace may appear; anything
    // else goes to the whole-text parse, which reports it.
    if (depth === 2 && arrayEnd === -1 && elementStart === -1 && arrayStart !== -1 && c !== OPEN_BRACE && c !== CLOSE_BRACKET && !betweenElements.has(c))
      return undefined;
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end === -1) return undefined;
      if (depth === 1 && arrayStart === -1 && end - i === key.length - 1 && bytes.subarray(i, end + 1).equals(key)) {
        const bracket = arrayAfterKey(bytes, end + 1);
        if (bracket !== -1) {
          arrayStart = bracket;
          i = bracket;
          depth += 1;
          continue;
        }
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 2 && arrayStart !== -1 && arrayEnd === -1) {
        if (c !== OPEN_BRACE) return undefined;
        elementStart = i;
      }
      depth += 1;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
      if (depth < 0) return undefined;
      if (depth === 2 && elementStart !== -1) {
        elements.push(bytes.subarray(elementStart, i + 1));
        elementStart = -1;
      } else if (depth === 1 && arrayStart !== -1 && arrayEnd === -1) {
        if (c !== CLOSE_BRACKET) return undefined;
        arrayEnd = i;
      }
    }
  }
  if (depth !== 0 || arrayStart === -1 || arrayEnd === -1) return undefined;
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(`${decode(bytes.subarray(0, arrayStart))}[]${decode(bytes.subarray(arrayEnd + 1))}`);
  } catch {
    return undefined;
  }
  if (wrapper === null || typeof wrapper !== 'object' || Array.isArray(wrapper)) return undefined;
  return { wrapper: wrapper as Record<string, unknown>, elements };
}

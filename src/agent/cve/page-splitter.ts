/**
 * Cuts an NVD API page (`{…, "vulnerabilities": [{"cve": …}, …]}`) into the text of each
 * element without parsing the page as a whole. JSON.parse of a 2,000-record page builds a
 * ~80 MB object graph that lives until the last record is written; parsing element by element
 * keeps one record's graph alive at a time, which is what keeps the import's memory small.
 * Only structure is scanned here (strings skipped, brackets counted); every element is still
 * parsed by JSON.parse, and the page without its array is too.
 */

export interface SplitPage {
  /** The page with an empty vulnerabilities array, parsed: resultsPerPage, totalResults, timestamp … */
  wrapper: Record<string, unknown>;
  /** The JSON text of each element of vulnerabilities, in order. */
  elements: string[];
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
/** Comma and the four JSON whitespace characters. */
const betweenElements = new Set([44, 32, 9, 10, 13]);

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let k = quote - 1; text.charCodeAt(k) === BACKSLASH; k -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/**
 * Returns undefined when the text is not an object with a top-level vulnerabilities array of
 * objects (a single record, a wrapper, or broken JSON): the caller then parses it whole and
 * gets JSON.parse's own error for broken text.
 */
export function splitPage(text: string): SplitPage | undefined {
  let depth = 0;
  let arrayStart = -1;
  let arrayEnd = -1;
  let elementStart = -1;
  const elements: string[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    // Between elements of the array only objects, commas and whitespace may appear; anything
    // else goes to the whole-text parse, which reports it.
    if (depth === 2 && arrayEnd === -1 && elementStart === -1 && arrayStart !== -1 && c !== OPEN_BRACE && c !== CLOSE_BRACKET && !betweenElements.has(c)) return undefined;
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return undefined;
      if (depth === 1 && arrayStart === -1 && end - i === 16 && text.startsWith('"vulnerabilities"', i)) {
        const colon = /\s*:\s*\[/y;
        colon.lastIndex = end + 1;
        if (colon.exec(text)) {
          arrayStart = colon.lastIndex - 1;
          i = arrayStart;
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
        elements.push(text.slice(elementStart, i + 1));
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
    wrapper = JSON.parse(`${text.slice(0, arrayStart)}[]${text.slice(arrayEnd + 1)}`);
  } catch {
    return undefined;
  }
  if (wrapper === null || typeof wrapper !== 'object' || Array.isArray(wrapper)) return undefined;
  return { wrapper: wrapper as Record<string, unknown>, elements };
}

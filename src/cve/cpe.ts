/**
 * CPE 2.3 formatted strings (NISTIR 7695 §6.2): parse, format and compare attributes.
 * `*` alone is ANY, `-` alone is NA (the attribute has no value); a backslash quotes the next
 * character (`rb\+`, `\:`); an unquoted `*` or `?` at either end of a value is a wildcard.
 */

export const cpeAttributeNames = [
  'part',
  'vendor',
  'product',
  'version',
  'update',
  'edition',
  'language',
  'sw_edition',
  'target_sw',
  'target_hw',
  'other',
] as const;
export type CpeAttributeName = (typeof cpeAttributeNames)[number];

export type CpeValue =
  | { kind: 'any' }
  | { kind: 'na' }
  /** `text` is unquoted and lower-cased (CPE values compare without case); `pattern` is set when the value has wildcards. */
  | { kind: 'value'; text: string; pattern?: RegExp };

export type Cpe = Readonly<Record<CpeAttributeName, CpeValue>>;

export class CpeParseError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`not a CPE 2.3 name (${reason}): ${input}`);
    this.name = 'CpeParseError';
  }
}

const ANY: CpeValue = { kind: 'any' };
const NA: CpeValue = { kind: 'na' };

/** Splits on unquoted colons, keeping the quoting so values can be decoded one by one. */
function splitComponents(input: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i += 1) {
    const char = input[i] as string;
    if (char === '\\') {
      current += char + (input[i + 1] ?? '');
      i += 1;
    } else if (char === ':') {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const plainValue = /^[^\\*?\s]+$/;

function decodeValue(raw: string, input: string): CpeValue {
  if (raw === '*' || raw === '') return ANY;
  if (raw === '-') return NA;
  // Nearly every value NVD writes has no quoting and no wildcard.
  if (plainValue.test(raw)) return { kind: 'value', text: raw.toLowerCase() };
  let text = '';
  let regex = '';
  let wildcard = false;
  // One letter per character: w for an unquoted wildcard, c for anything else; wildcards may only lead or trail.
  let shape = '';
  for (let i = 0; i < raw.length; i += 1) {
    const char = raw[i] as string;
    if (char === '\\') {
      const next = raw[i + 1];
      if (next === undefined) throw new CpeParseError(input, 'a value ends in a lone backslash');
      text += next;
      shape += 'c';
      regex += escapeRegExp(next.toLowerCase());
      i += 1;
    } else if (char === '*' || char === '?') {
      shape += 'w';
      wildcard = true;
      text += char;
      regex += char === '*' ? '.*' : '.';
    } else {
      if (/\s/.test(char)) throw new CpeParseError(input, 'whitespace inside a value');
      text += char;
      shape += 'c';
      regex += escapeRegExp(char.toLowerCase());
    }
  }
  if (!/^w*c*w*$/.test(shape)) throw new CpeParseError(input, 'an unquoted wildcard inside a value');
  const lower = text.toLowerCase();
  return wildcard ? { kind: 'value', text: lower, pattern: new RegExp(`^${regex}$`) } : { kind: 'value', text: lower };
}

const parseCache = new Map<string, Cpe>();

/**
 * Parses `cpe:2.3:part:vendor:product:version:…`. Missing trailing attributes are ANY, so
 * `cpe:2.3:a:openbsd:openssh:9.2` is accepted as typed by an operator.
 */
export function parseCpe(input: string): Cpe {
  const cached = parseCache.get(input);
  if (cached) return cached;
  if (!/^cpe:2\.3:/i.test(input)) throw new CpeParseError(input, 'it must start with cpe:2.3:');
  const components = splitComponents(input.slice('cpe:2.3:'.length));
  if (components.length < 3) throw new CpeParseError(input, 'part, vendor and product are required');
  if (components.length > cpeAttributeNames.length) throw new CpeParseError(input, `more than ${cpeAttributeNames.length} attributes`);
  const values = {} as Record<CpeAttributeName, CpeValue>;
  cpeAttributeNames.forEach((name, index) => {
    values[name] = decodeValue(components[index] ?? '*', input);
  });
  const part = values.part;
  if (part.kind !== 'any' && (part.kind !== 'value' || !['a', 'o', 'h'].includes(part.text))) {
    throw new CpeParseError(input, 'part must be a, o or h');
  }
  const parsed = Object.freeze(values);
  // Criteria strings repeat across thousands of CVEs; the bound keeps the cache from growing forever.
  if (parseCache.size > 100_000) parseCache.clear();
  parseCache.set(input, parsed);
  return parsed;
}

/** True when the string parses; for validation at the import boundary. */
export function isCpe(input: string): boolean {
  try {
    parseCpe(input);
    return true;
  } catch {
    return false;
  }
}

function encodeValue(value: CpeValue): string {
  if (value.kind === 'any') return '*';
  if (value.kind === 'na') return '-';
  const text = value.text;
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    const isWildcardEnd = value.pattern !== undefined && (char === '*' || char === '?') && (i === 0 || i === text.length - 1);
    out += /[a-z0-9._]/.test(char) || isWildcardEnd || (char === '-' && text.length > 1) ? char : `\\${char}`;
  }
  return out;
}

export function formatCpe(cpe: Cpe): string {
  return `cpe:2.3:${cpeAttributeNames.map((name) => encodeValue(cpe[name])).join(':')}`;
}

/** A CPE from plain attribute values; undefined is ANY, '-' is NA, anything else is taken literally. */
export function buildCpe(attributes: Partial<Record<CpeAttributeName, string | undefined>>): Cpe {
  const values = {} as Record<CpeAttributeName, CpeValue>;
  for (const name of cpeAttributeNames) {
    const given = attributes[name];
    values[name] = given === undefined || given === '*' ? ANY : given === '-' ? NA : { kind: 'value', text: given.toLowerCase() };
  }
  return Object.freeze(values);
}

/** The plain text of a value for display and for version comparison ('*' and '-' for ANY and NA). */
export function valueText(value: CpeValue): string {
  return value.kind === 'any' ? '*' : value.kind === 'na' ? '-' : value.text;
}

/** Whether a criterion's specific value names the candidate's value (wildcards honoured). */
export function sameValue(criterion: CpeValue & { kind: 'value' }, candidate: CpeValue & { kind: 'value' }): boolean {
  return criterion.pattern ? criterion.pattern.test(candidate.text) : criterion.text === candidate.text;
}

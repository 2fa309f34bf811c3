/**
 * Debian package version comparison, Debian Policy 5.6.12: `[epoch:]upstream[-revision]`.
 * Epochs compare as integers; upstream and revision alternate non-digit runs (compared
 * character by character with `~` before everything, even the end, and letters before
 * non-letters) and digit runs (compared numerically). Same results as `dpkg --compare-versions`.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const upstreamChars = /^[0-9][A-Za-z0-9.+~:-]*$/;
const revisionChars = /^[A-Za-z0-9.+~]+$/;

/** Splits a version into its parts, or undefined when it is not a valid Debian version. */
export function parseDebianVersion(text: string): DebianVersion | undefined {
  const version = text.trim();
  const colon = version.indexOf(':');
  let epoch = 0;
  let rest = version;
  if (colon !== -1) {
    const epochText = version.slice(0, colon);
    if (!/^\d+$/.test(epochText)) return undefined;
    epoch = Number(epochText);
    rest = version.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash === -1 ? rest : rest.slice(0, dash);
  const revision = dash === -1 ? '' : rest.slice(dash + 1);
  if (!upstreamChars.test(upstream) || (colon === -1 && upstream.includes(':'))) return undefined;
  if (dash !== -1 && !revisionChars.test(revision)) return undefined;
  return { epoch, upstream, revision };
}

/** Whether `text` is a valid Debian package version. */
export function isDebianVersion(text: string): boolean {
  return parseDebianVersion(text) !== undefined;
}

/** dpkg's character order: `~` first, then the end of the part, then letters, then the rest. */
function order(char: string | undefined): number {
  if (char === undefined) return 0;
  if (char === '~') return -1;
  if (/[A-Za-z]/.test(char)) return char.charCodeAt(0);
  return char.charCodeAt(0) + 256;
}

const isDigit = (char: string | undefined): boolean => char !== undefined && char >= '0' && char <= '9';

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const left = isDigit(a[i]) ? 0 : order(a[i]);
      const right = isDigit(b[j]) ? 0 : order(b[j]);
      if (left !== right) return left - right;
      i += 1;
      j += 1;
    }
    while (a[i] === '0') i += 1;
    while (b[j] === '0') j += 1;
    let difference = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (difference === 0) difference = (a.charCodeAt(i) as number) - (b.charCodeAt(j) as number);
      i += 1;
      j += 1;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Compares two Debian versions: -1 when a < b, 0 when equal, 1 when a > b. Throws a TypeError
 * on an invalid version (check with isDebianVersion first when the text comes from outside).
 */
export function compareDebianVersions(a: string, b: string): -1 | 0 | 1 {
  const left = parseDebianVersion(a);
  const right = parseDebianVersion(b);
  if (!left) throw new TypeError(`not a Debian version: ${a}`);
  if (!right) throw new TypeError(`not a Debian version: ${b}`);
  const result =
    left.epoch !== right.epoch ? left.epoch - right.epoch : comparePart(left.upstream, right.upstream) || comparePart(left.revision, right.revision);
  return result < 0 ? -1 : result > 0 ? 1 : 0;
}

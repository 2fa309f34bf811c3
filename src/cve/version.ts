/**
 * Version ordering for the products NVD describes. NVD compares versions as text only in
 * its own tooling; a scanner must order them the way the vendors release them:
 * `6.9 < 6.10` (numbers, not text), `1.1.1k > 1.1.1` (a trailing letter is a later
 * release), `7.1beta4 < 7.1rc1 < 7.1` (pre-release words sort before the release),
 * `2022.83` (Dropbear dates are plain numbers), `1.0 == 1.0.0`.
 */

type Token = { kind: 'number'; digits: string } | { kind: 'word'; text: string };

/** Pre-release words and their order; any other word (`p`, `k`, `b`, `sp`, `s`) is a later release. */
const preReleaseRank: ReadonlyMap<string, number> = new Map([
  ['dev', 0],
  ['snapshot', 0],
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['preview', 3],
  ['rc', 4],
]);

const tokenCache = new Map<string, readonly Token[]>();

function tokenize(version: string): readonly Token[] {
  const cached = tokenCache.get(version);
  if (cached) return cached;
  const text = version
    .trim()
    .toLowerCase()
    .replace(/^v(?=\d)/, '');
  const tokens: Token[] = [];
  for (const match of text.matchAll(/(\d+)|([a-z]+)/g)) {
    if (match[1] !== undefined) tokens.push({ kind: 'number', digits: match[1].replace(/^0+(?=\d)/, '') });
    else tokens.push({ kind: 'word', text: match[2] ?? '' });
  }
  // Matching looks the same few thousand versions up again and again; bound the cache so a
  // long-lived daemon does not grow with every odd version string it ever met.
  if (tokenCache.size > 50_000) tokenCache.clear();
  tokenCache.set(version, tokens);
  return tokens;
}

function isPreReleaseWord(token: Token | undefined): boolean {
  return token?.kind === 'word' && preReleaseRank.has(token.text);
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How the tokens left on the longer side compare with "nothing": 1.0rc1 < 1.0 = 1.0.0 < 1.0.1 < 1.0a. */
function compareTail(rest: readonly Token[]): number {
  const first = rest[0];
  if (first === undefined) return 0;
  if (isPreReleaseWord(first)) return -1;
  if (first.kind === 'word') return 1;
  return rest.every((token) => token.kind === 'number' && token.digits === '0') ? 0 : 1;
}

/** Negative if a is older than b, zero if they are the same release, positive if a is newer. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const left = tokenize(a);
  const right = tokenize(b);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i += 1) {
    const x = left[i] as Token;
    const y = right[i] as Token;
    if (x.kind === 'number' && y.kind === 'number') {
      const order = compareDigits(x.digits, y.digits);
      if (order !== 0) return order;
      continue;
    }
    if (x.kind === 'word' && y.kind === 'word') {
      const rankX = preReleaseRank.get(x.text);
      const rankY = preReleaseRank.get(y.text);
      if (rankX !== undefined && rankY !== undefined) {
        if (rankX !== rankY) return rankX < rankY ? -1 : 1;
        continue;
      }
      if (rankX !== undefined) return -1;
      if (rankY !== undefined) return 1;
      if (x.text !== y.text) return x.text < y.text ? -1 : 1;
      continue;
    }
    // A number against a word: a pre-release word is older than any number in its place
    // (7.1beta < 7.1.1), and a later-release letter is older than the next number (9.2p1 < 9.2.1).
    if (x.kind === 'word') return -1;
    return 1;
  }
  if (left.length === right.length) return 0;
  return left.length > right.length ? compareTail(left.slice(length)) : -compareTail(right.slice(length));
}

/** True for `rc1`, `beta4`, `alpha` …: an update attribute that names a build before its release. */
export function isPreRelease(update: string): boolean {
  return isPreReleaseWord(tokenize(update)[0]);
}

/** True when the version itself carries a pre-release word (`7.1rc1`). */
export function hasPreReleaseMarker(version: string): boolean {
  return tokenize(version).some((token) => isPreReleaseWord(token));
}

export interface VersionBounds {
  versionStartIncluding?: string | undefined;
  versionStartExcluding?: string | undefined;
  versionEndIncluding?: string | undefined;
  versionEndExcluding?: string | undefined;
}

export function hasBounds(bounds: VersionBounds): boolean {
  return (
    bounds.versionStartIncluding !== undefined ||
    bounds.versionStartExcluding !== undefined ||
    bounds.versionEndIncluding !== undefined ||
    bounds.versionEndExcluding !== undefined
  );
}

/** Whether the version lies within every bound given (a missing bound is open). */
export function withinBounds(version: string, bounds: VersionBounds): boolean {
  if (bounds.versionStartIncluding !== undefined && compareVersions(version, bounds.versionStartIncluding) < 0) return false;
  if (bounds.versionStartExcluding !== undefined && compareVersions(version, bounds.versionStartExcluding) <= 0) return false;
  if (bounds.versionEndIncluding !== undefined && compareVersions(version, bounds.versionEndIncluding) > 0) return false;
  if (bounds.versionEndExcluding !== undefined && compareVersions(version, bounds.versionEndExcluding) >= 0) return false;
  return true;
}

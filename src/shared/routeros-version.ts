/**
 * RouterOS versions as routers and banners print them (`7.15.1 (stable) 2024-06-07 12:49:11`,
 * `6.40.8 (bugfix)`, `v7.16rc2`, `"5.0rc1"`), their release channel, and the channel as NVD
 * files it in a CPE's sw_edition. The one place for this rule: the agent's router module, its
 * probes and its CVE matcher read versions through it.
 */

/** The channels as RouterOS 6.41+ and 7 name them; older names are read as these. */
export type RouterOsChannel = 'long-term' | 'stable' | 'testing' | 'development';

export interface RouterOsRelease {
  /** Numeric part: `7.16` for `7.16rc2`. */
  version: string;
  /** Pre-release tag, lower-case (`rc2`, `beta4`); undefined for a release. */
  prerelease: string | undefined;
  channel: RouterOsChannel | undefined;
  /** Version and tag as RouterOS prints them: `7.16rc2`. */
  display: string;
}

/**
 * Channel words, old and new (MikroTik renamed them in 2017: Bugfix is Long-term, Current is
 * Stable, Release Candidate is Testing; `ltr` is how NVD and some banners abbreviate long-term).
 */
const channelWords: Readonly<Record<string, RouterOsChannel>> = {
  'long-term': 'long-term',
  ltr: 'long-term',
  bugfix: 'long-term',
  stable: 'stable',
  current: 'stable',
  testing: 'testing',
  'release candidate': 'testing',
  development: 'development',
};

/** A channel word in any case; undefined for anything else. */
export function parseRouterOsChannel(word: string | undefined): RouterOsChannel | undefined {
  if (word === undefined) return undefined;
  return channelWords[word.trim().toLowerCase().replace(/\s+/g, ' ')];
}

/**
 * Regular-expression source of a RouterOS version inside a banner: an optional `v`, 2 to 4
 * numbers and an optional alpha/beta/rc tag. Group 1 is the version with its tag (`7.16rc2`).
 * Probes embed it in their own context (`MikroTik v…`, `RouterOS …`).
 */
export const routerOsVersionSource = String.raw`v?(\d+(?:\.\d+){1,3}(?:(?:alpha|beta|rc)\d*)?)(?![\w.]*\d)`;

/** Regular-expression source of the channel a banner may print after the version (`(long-term)`). Group 1 is the word. */
export const routerOsChannelSource = String.raw`\s*\(([A-Za-z][A-Za-z -]*)\)`;

const versionAtStart = /^v?(\d+(?:\.\d+){1,3})((?:alpha|beta|rc)\d*)?(?=$|[\s("])/i;

/**
 * Parses a version as RouterOS prints it, with the channel after it in parentheses or as a bare
 * word, and anything after that ignored (the build date `/system/resource` prints). `channel`
 * is for sources that give it apart from the version; it wins over one in the text. Undefined
 * when the text does not start with a version.
 */
export function parseRouterOsVersion(text: string | undefined, channel?: string): RouterOsRelease | undefined {
  if (text === undefined) return undefined;
  const unquoted = text.trim().replace(/^"([^"]*)"/, '$1');
  const match = versionAtStart.exec(unquoted);
  if (match?.[1] === undefined) return undefined;
  const rest = unquoted.slice(match[0].length);
  const word = /^\s*\(([^)]*)\)/.exec(rest)?.[1] ?? /^\s+([a-z-]+(?: candidate)?)/i.exec(rest)?.[1];
  const prerelease = match[2]?.toLowerCase();
  return {
    version: match[1],
    prerelease,
    channel: parseRouterOsChannel(channel) ?? parseRouterOsChannel(word),
    display: match[1] + (prerelease ?? ''),
  };
}

/** A channel as CPE sw_edition: NVD writes long-term `ltr`, stable `-` (NA) and testing `testing`. */
export type RouterOsSwEdition = 'ltr' | '-' | 'testing';

const swEditions: Readonly<Record<RouterOsChannel, RouterOsSwEdition>> = {
  'long-term': 'ltr',
  stable: '-',
  // NVD files every beta and rc build under testing, development (RouterOS 7's beta channel) included.
  testing: 'testing',
  development: 'testing',
};

/**
 * The CPE sw_edition of a release. Without a channel, a beta or rc is `testing` (MikroTik ships
 * them only there), and a release is undefined: ANY, which the matcher records as an assumption.
 */
export function routerOsSwEdition(release: Pick<RouterOsRelease, 'channel' | 'prerelease'>): RouterOsSwEdition | undefined {
  if (release.channel !== undefined) return swEditions[release.channel];
  return release.prerelease === undefined ? undefined : 'testing';
}

/** The channel a RouterOS CPE's sw_edition names, for advice and assumption text. */
export const routerOsChannelOfSwEdition: Readonly<Record<string, RouterOsChannel>> = { ltr: 'long-term', '-': 'stable', testing: 'testing' };

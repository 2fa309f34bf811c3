/** RouterOS version strings as routers print them, and their CPE 2.3 names. */

export type ReleaseChannel = 'long-term' | 'stable' | 'testing' | 'development' | 'bugfix';

export interface RouterOsVersion {
  /** Numeric part, e.g. `7.15.1`; `7.1` for `7.1beta4`. */
  version: string;
  /** Pre-release tag, e.g. `beta4`, `rc1`; undefined for a release. */
  prerelease: string | undefined;
  channel: ReleaseChannel | undefined;
  /** The whole string as the router printed it. */
  raw: string;
}

const versionPattern = /^"?(\d+(?:\.\d+){1,3})((?:alpha|beta|rc)\d*)?"?(?:\s+\(([a-z-]+)\))?/i;
const channels = new Set<string>(['long-term', 'stable', 'testing', 'development', 'bugfix']);

/** Parses `7.15.1 (stable) 2024-06-07 12:49:11`, `6.48.6 (long-term)`, `7.1beta4 (development)`, `5.0rc1`. */
export function parseRouterOsVersion(raw: string | undefined): RouterOsVersion | undefined {
  if (raw === undefined) return undefined;
  const match = versionPattern.exec(raw.trim());
  if (match?.[1] === undefined) return undefined;
  const channel = match[3]?.toLowerCase();
  return {
    version: match[1],
    prerelease: match[2]?.toLowerCase(),
    channel: channel !== undefined && channels.has(channel) ? (channel as ReleaseChannel) : undefined,
    raw: raw.trim(),
  };
}

/**
 * The channel goes to the CPE's sw_edition (long-term `ltr`, stable `-`, testing `testing`;
 * bugfix was long-term's name before 6.41, development is the beta channel) and a beta or
 * rc tag to its update field, so the matcher can tell `7.16rc2` from `7.16`.
 */
const editions: Record<ReleaseChannel, string> = { 'long-term': 'ltr', bugfix: 'ltr', stable: '-', testing: 'testing', development: '-' };

export function routerOsCpe(version: RouterOsVersion): string {
  const update = version.prerelease ?? '*';
  const edition = version.channel === undefined ? '*' : editions[version.channel];
  return `cpe:2.3:o:mikrotik:routeros:${version.version}:${update}:*:*:${edition}:*:*:*`;
}

/** RouterOS durations (`1w2d3h4m5s`, `3m9s`, `00:01:02`, `never`) in milliseconds; undefined when unknown. */
export function parseRouterOsDuration(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text === 'never') return undefined;
  const clock = /^(?:(\d+)d)?\s*(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (clock) return (((Number(clock[1] ?? 0) * 24 + Number(clock[2])) * 60 + Number(clock[3])) * 60 + Number(clock[4])) * 1000;
  const units: Record<string, number> = { w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
  let total = 0;
  let rest = text;
  for (;;) {
    const part = /^(\d+)(ms|w|d|h|m|s)/.exec(rest);
    if (!part) break;
    total += Number(part[1]) * (units[part[2] ?? 's'] ?? 0);
    rest = rest.slice(part[0].length);
  }
  return rest === '' && text !== '' ? total : undefined;
}

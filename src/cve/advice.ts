import { routerOsChannelOfSwEdition, type RouterOsChannel } from '../shared/routeros-version.js';
import { buildCpe, parseCpe, valueText, type Cpe } from './cpe.js';
import type { CriterionRow } from './cve-store.js';
import { distroTrackerUrl } from './distro.js';
import { matchesExceptVersion, rangeVersion } from './entry-match.js';
import { adviceTags, type CveReference } from './record.js';
import type { Exposure } from './priority.js';
import { compareVersions } from './version.js';

/** Fixed releases and what to do about a finding. */

/**
 * The nearest release NVD records as fixed for the candidate's branch: the smallest
 * versionEndExcluding above the candidate's version among the entries that name the same
 * product with compatible attributes (a long-term RouterOS is not fixed by a stable release).
 */
export function fixedIn(rows: readonly CriterionRow[], candidate: Cpe): string | null {
  const version = rangeVersion(candidate);
  if (version === undefined) return null;
  // Entries that fit the candidate as observed come first: a "*" RouterOS entry says more
  // about a device of unknown channel than an "ltr" one that fits only if it runs long-term.
  let best: { end: string; assumed: boolean } | null = null;
  for (const row of rows) {
    const end = row.version_end_excluding;
    if (end === null || compareVersions(end, version) <= 0) continue;
    const assumptions = matchesExceptVersion(parseCpe(row.criteria), candidate);
    if (assumptions === null) continue;
    const assumed = assumptions.length > 0;
    if (best === null || (best.assumed && !assumed) || (best.assumed === assumed && compareVersions(end, best.end) < 0)) best = { end, assumed };
  }
  return best?.end ?? null;
}

/** For ranges NVD closes with versionEndIncluding: the last affected release of the candidate's branch. */
function lastAffectedIn(rows: readonly CriterionRow[], candidate: Cpe): string | null {
  const version = rangeVersion(candidate);
  if (version === undefined) return null;
  let last: string | null = null;
  for (const row of rows) {
    const end = row.version_end_including;
    if (end === null || compareVersions(end, version) < 0) continue;
    if (matchesExceptVersion(parseCpe(row.criteria), candidate) === null) continue;
    if (last === null || compareVersions(end, last) > 0) last = end;
  }
  return last;
}

/** `>= 8.6, < 9.8`, `<= 7.7`, `= 9.8 (update -)`: the entry that matched, for the report. */
export function describeRange(row: CriterionRow): string {
  const cpe = parseCpe(row.criteria);
  const parts: string[] = [];
  if (row.version_start_including !== null) parts.push(`>= ${row.version_start_including}`);
  if (row.version_start_excluding !== null) parts.push(`> ${row.version_start_excluding}`);
  if (row.version_end_including !== null) parts.push(`<= ${row.version_end_including}`);
  if (row.version_end_excluding !== null) parts.push(`< ${row.version_end_excluding}`);
  const version = valueText(cpe.version);
  if (version !== '*') parts.push(`= ${version}`);
  if (parts.length === 0) parts.push('all versions');
  const qualifiers = (['update', 'sw_edition', 'target_sw', 'target_hw'] as const)
    .filter((name) => cpe[name].kind !== 'any')
    .map((name) => `${name} ${valueText(cpe[name])}`);
  return qualifiers.length === 0 ? parts.join(', ') : `${parts.join(', ')} (${qualifiers.join(', ')})`;
}

/**
 * RouterOS upgrade advice per channel. NVD writes the channel in sw_edition; a `*` entry
 * applies to every channel, so the fix of each channel is looked for as if the device ran it.
 */
function routerOsAdvice(rows: readonly CriterionRow[], candidate: Cpe): string[] {
  const channel = valueText(candidate.sw_edition);
  const channels = channel === 'ltr' || channel === '-' ? [channel] : (['ltr', '-'] as const);
  return channels.map((edition) => {
    const asIf = buildCpe({
      part: 'o',
      vendor: 'mikrotik',
      product: 'routeros',
      version: valueText(candidate.version),
      update: valueText(candidate.update),
      sw_edition: edition,
    });
    const fixed = fixedIn(rows, asIf);
    const name = routerOsChannelOfSwEdition[edition] ?? edition;
    if (fixed !== null) return `RouterOS ${name}: upgrade to ${fixed} or later (/system package update set channel=${name}; /system package update install)`;
    const lastAffected = lastAffectedIn(rows, asIf);
    return lastAffected === null
      ? `RouterOS ${name}: NVD records no fixed ${name} release; follow the MikroTik advisory`
      : `RouterOS ${name}: upgrade to a release later than ${lastAffected} (/system package update set channel=${name}; /system package update install)`;
  });
}

export interface Advice {
  summary: string;
  actions: string[];
  references: CveReference[];
}

export interface AdviceInput {
  cveId: string;
  label: string;
  candidate: Cpe;
  matchedRow: CriterionRow;
  productRows: readonly CriterionRow[];
  fixed: string | null;
  references: readonly CveReference[];
  distro: string | undefined;
  possiblyBackported: boolean;
}

export function buildAdvice(input: AdviceInput): Advice {
  const { candidate, matchedRow, fixed, label } = input;
  const actions: string[] = [];
  const isRouterOs = valueText(candidate.vendor) === 'mikrotik' && valueText(candidate.product) === 'routeros';
  if (isRouterOs) {
    actions.push(...routerOsAdvice(input.productRows, candidate));
  } else if (fixed !== null) {
    actions.push(`Upgrade ${label} to ${fixed} or later.`);
  } else if (matchedRow.version_end_including !== null) {
    actions.push(`Upgrade ${label} to a release later than ${matchedRow.version_end_including}.`);
  } else {
    actions.push(`NVD records no fixed ${label} release for this version; follow the vendor advisory.`);
  }
  const references = input.references.filter((reference) => reference.tags.some((tag) => adviceTags.has(tag)));
  if (references.some((reference) => reference.tags.includes('Mitigation'))) actions.push('A mitigation is described in the references tagged Mitigation.');
  if (input.possiblyBackported && input.distro !== undefined) {
    const tracker = distroTrackerUrl(input.distro, input.cveId);
    actions.unshift(
      `The banner shows a distribution package (${input.distro}): the fix may be backported without a version change; check ${tracker ?? "the distribution's security tracker"} and update the package.`,
    );
  }
  return { summary: actions[0] ?? '', actions, references };
}

/** The RouterOS channel a device runs, and where that came from. */
export interface DeviceChannel {
  channel: RouterOsChannel;
  /** `printed`: the router printed it (`/system resource` version `7.15.3 (stable)`); `inferred`: guessed from the version alone. */
  source: 'printed' | 'inferred';
}

/**
 * The device's channel: as the router printed it next to its version, else inferred from the
 * version (a pre-release is on testing; RouterOS 6 after 7's release is kept on long-term, which
 * is where MikroTik maintains 6.x; any other 7.x release on stable).
 */
export function deviceChannel(printed: RouterOsChannel | undefined, version: string): DeviceChannel {
  if (printed !== undefined) return { channel: printed, source: 'printed' };
  if (/(rc|beta)\d*$/i.test(version)) return { channel: 'testing', source: 'inferred' };
  return { channel: version.startsWith('6.') ? 'long-term' : 'stable', source: 'inferred' };
}

export interface RouterOsPlanInput {
  version: string;
  channel: DeviceChannel;
  /** Newest release on the device's channel (routeros_releases), or null when not known. */
  newest: string | null;
  /** The first release NVD records as fixed for the device's branch, or null. */
  fixed: string | null;
  /** How the router is reachable from WAN today (exposure.ts). */
  exposure: readonly Exposure[];
  /** The LAN the router's services should be limited to. */
  lan: string;
}

export interface RouterOsPlan {
  /** One line for the report: what to install or change, and why. */
  summary: string;
  /** What the admin types, in order. */
  commands: string[];
}

/** The commands that close an exposure while no release fixes the CVE. */
function closeExposure(exposure: readonly Exposure[], lan: string): string[] {
  const commands: string[] = [];
  for (const item of exposure) {
    if (item.kind === 'upnp') commands.push('/ip upnp set enabled=no');
    const service = /^router service (\S+) /.exec(item.detail)?.[1];
    if (item.kind === 'router-service' && service !== undefined) {
      // Plain-text protocols are better off; the management ones are kept for the LAN.
      commands.push(['telnet', 'ftp', 'www', 'api'].includes(service) ? `/ip service disable ${service}` : `/ip service set ${service} address=${lan}`);
    }
    const rule = / by dstnat rule (\S+)$/.exec(item.detail)?.[1];
    if (item.kind === 'dstnat' && rule !== undefined) commands.push(`/ip firewall nat disable ${rule.replace(/^#/, '')}`);
  }
  return [...new Set(commands)];
}

/**
 * A RouterOS finding's plan: the newest release on the device's own channel when it fixes the
 * CVE, with the exact update commands and the RouterBOOT step; otherwise the service, NAT or
 * UPnP change that removes the exposure.
 */
export function routerOsPlan(input: RouterOsPlanInput): RouterOsPlan {
  const { channel, newest, fixed } = input;
  const how = channel.source === 'printed' ? 'as the router reports' : `inferred from ${input.version}`;
  const fixes = newest !== null && compareVersions(newest, input.version) > 0 && (fixed === null || compareVersions(newest, fixed) >= 0);
  if (fixes) {
    return {
      summary: `Install RouterOS ${newest}, the newest ${channel.channel} release (channel ${how})${fixed === null ? '' : `; fixed in ${fixed}`}.`,
      commands: [
        `/system package update set channel=${channel.channel}`,
        '/system package update check-for-updates',
        '/system package update install',
        // After the package reboot, RouterBOOT is upgraded to match and needs one more reboot.
        '/system routerboard upgrade',
        '/system reboot',
      ],
    };
  }
  const commands = closeExposure(input.exposure, input.lan);
  const release = newest === null ? `no ${channel.channel} release is known yet` : `the newest ${channel.channel} release (${newest}) does not fix it yet`;
  return {
    summary:
      commands.length === 0
        ? `No RouterOS fix: ${release} (channel ${how}); follow the MikroTik advisory.`
        : `No RouterOS fix: ${release} (channel ${how}); remove the exposure meanwhile.`,
    commands,
  };
}

import { compareDebianVersions } from './debian-version.js';
import type { DistroPackage } from './banner-tag.js';
import type { DistroStatusRow } from './status-rows.js';

/**
 * A distribution's verdict on one CVE for the package behind a banner:
 * - 'fixed': the installed package version is at or above the tracker's fixed version, so the
 *   distribution backported the fix ("patched by Debian in <fixed_version>"): not a vulnerability;
 * - 'vulnerable': the tracker says the installed package has the flaw (upgrade to fixed_version
 *   when there is one);
 * - 'not-affected': the release's package never had the flaw;
 * - 'unknown': the banner or the tracker do not allow a decision; the NVD verdict stands, flagged.
 */
export type DistroVerdictStatus = 'fixed' | 'vulnerable' | 'not-affected' | 'unknown';

export interface DistroVerdict {
  distro: 'debian' | 'ubuntu';
  release: string | null;
  package: string;
  installed_version: string | null;
  status: DistroVerdictStatus;
  fixed_version: string | null;
  /** The advisory (DSA/DLA/USN) when the tracker names one, else the tracker page. */
  ref: string;
  url: string;
  /** One sentence: why this verdict. */
  reason: string;
}

export function distroCveUrl(distro: 'debian' | 'ubuntu', cveId: string): string {
  return distro === 'debian' ? `https://security-tracker.debian.org/tracker/${cveId}` : `https://ubuntu.com/security/${cveId}`;
}

const distroName = { debian: 'Debian', ubuntu: 'Ubuntu' } as const;

/** Decides the verdict from the tracker rows of this CVE and source package (every release). */
export function decideDistroVerdict(pkg: DistroPackage, cveId: string, rows: readonly DistroStatusRow[]): DistroVerdict {
  const url = distroCveUrl(pkg.distro, cveId);
  const name = distroName[pkg.distro];
  const base = {
    distro: pkg.distro,
    release: pkg.release ?? null,
    package: pkg.sourcePackage,
    installed_version: pkg.packageVersion ?? null,
  };
  const verdict = (status: DistroVerdictStatus, reason: string, row?: DistroStatusRow): DistroVerdict => ({
    ...base,
    status,
    fixed_version: row?.fixed_version ?? null,
    ref: row?.ref ?? url,
    url,
    reason,
  });
  if (pkg.release === undefined) return verdict('unknown', `${name} release unknown: the banner does not say which ${name} release this is`);
  const row = rows.find((candidate) => candidate.distro === pkg.distro && candidate.release === pkg.release && candidate.package === pkg.sourcePackage);
  if (row === undefined) return verdict('unknown', `the ${name} tracker data has no entry for ${pkg.sourcePackage} in ${pkg.release}`);
  switch (row.status) {
    case 'not-affected':
      return verdict('not-affected', `${name} ${pkg.release} ${pkg.sourcePackage} is not affected`, row);
    case 'vulnerable':
      return verdict('vulnerable', `${name} has not fixed ${pkg.sourcePackage} in ${pkg.release}`, row);
    case 'unknown':
      return verdict('unknown', `the ${name} tracker does not decide for ${pkg.sourcePackage} in ${pkg.release}`, row);
    case 'fixed': {
      const fixed = row.fixed_version;
      if (fixed === null) return verdict('unknown', `${name} marks ${pkg.sourcePackage} fixed in ${pkg.release} without a version`, row);
      if (fixed === '0') return verdict('not-affected', `${name} ${pkg.release} ${pkg.sourcePackage} was never vulnerable`, row);
      if (pkg.packageVersion === undefined) {
        return verdict(
          'unknown',
          `${name} fixed ${pkg.sourcePackage} in ${fixed}; the banner does not show the package revision, so the installed version cannot be compared`,
          row,
        );
      }
      return compareDebianVersions(pkg.packageVersion, fixed) >= 0
        ? verdict('fixed', `patched by ${name} in ${fixed}`, row)
        : verdict('vulnerable', `${name} fixed ${pkg.sourcePackage} in ${fixed}; ${pkg.packageVersion} is older`, row);
    }
  }
}

/** Whether the verdict takes the CVE off the host's vulnerabilities (it stays listed as patched). */
export function isPatched(verdict: DistroVerdict | null | undefined): boolean {
  return verdict?.status === 'fixed' || verdict?.status === 'not-affected';
}

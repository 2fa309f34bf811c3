/**
 * Distribution revisions in banners. Debian, Ubuntu, RHEL and their kin backport security
 * fixes without changing the upstream version (`OpenSSH_9.2p1 Debian-2+deb12u3` carries the
 * CVE-2024-6387 fix although 9.2p1 lies in NVD's range), so a version match on such a host
 * is "possibly backported", never a certainty either way.
 */

export interface SplitVersion {
  /** The upstream version NVD knows (`9.2p1`, `2.4.57`, `9.18.28`). */
  upstream: string;
  /** The distribution's part (`Debian-2+deb12u3`, `(Ubuntu)`, `1~deb12u2-Debian`), if any. */
  distro: string | undefined;
}

const distroWord = /debian|ubuntu|raspbian|deb\d|ubuntu\d|\bel\d|\.el\d|rhel|red ?hat|centos|rocky|alma|fedora|\bfc\d|suse|sles|alpine|amzn|amazon/i;
/** Splits a banner's version text into the upstream version and the distribution revision. */
export function splitDistroRevision(text: string): SplitVersion {
  const [first = '', ...rest] = text.trim().split(/\s+/);
  const tail = rest.join(' ');
  // A package revision glued to the version: 2022.83-1+deb12u1, 9.18.28-1~deb12u2-Debian, 1.2.3-0ubuntu1.
  for (let i = 1; i < first.length; i += 1) {
    if (!'-+~'.includes(first[i] as string)) continue;
    const suffix = first.slice(i + 1);
    if (distroWord.test(suffix)) return { upstream: first.slice(0, i), distro: [suffix, tail].filter(Boolean).join(' ') };
  }
  if (tail !== '' && distroWord.test(tail)) return { upstream: first, distro: tail };
  return { upstream: first, distro: undefined };
}

/** Whether a distro hint names a distribution that backports fixes. */
export function isDistroRevision(distro: string | undefined): boolean {
  return distro !== undefined && distro.trim() !== '' && (distroWord.test(distro) || /^\d+[+~]/.test(distro));
}

/** Where the distribution says whether its package is fixed. */
export function distroTrackerUrl(distro: string, cveId: string): string | undefined {
  if (/ubuntu/i.test(distro)) return `https://ubuntu.com/security/${cveId}`;
  if (/debian|deb\d|raspbian/i.test(distro)) return `https://security-tracker.debian.org/tracker/${cveId}`;
  if (/el\d|rhel|red ?hat|centos|rocky|alma/i.test(distro)) return `https://access.redhat.com/security/cve/${cveId}`;
  if (/suse|sles/i.test(distro)) return `https://www.suse.com/security/cve/${cveId}.html`;
  return undefined;
}

import { isDebianVersion } from './debian-version.js';

/**
 * What a banner's distribution tag says about the package behind a service:
 * `OpenSSH_9.2p1 Debian-2+deb12u3` is Debian's openssh source package, version
 * `1:9.2p1-2+deb12u3`, release bookworm. A tag without a revision (`Apache/2.4.62 (Debian)`)
 * names the distribution only: the installed package version is not known.
 */
export interface DistroPackage {
  distro: 'debian' | 'ubuntu';
  /** Codename (`bookworm`, `jammy`) when the tag or the upstream version pins it. */
  release?: string;
  /** The full Debian package version, epoch included, when the banner carries the revision. */
  packageVersion?: string;
  sourcePackage: string;
}

/**
 * Source package and epoch of each product per distribution, keyed by the CPE product name
 * (and the scanner's product words). The epoch is part of the archive's version
 * (`1:9.2p1-2+deb12u3`) but never of a banner, so it is added back here.
 */
interface PackageRule {
  debian: string;
  ubuntu: string;
  epoch?: number;
}
const packages: Record<string, PackageRule> = {
  openssh: { debian: 'openssh', ubuntu: 'openssh', epoch: 1 },
  http_server: { debian: 'apache2', ubuntu: 'apache2' },
  apache: { debian: 'apache2', ubuntu: 'apache2' },
  nginx: { debian: 'nginx', ubuntu: 'nginx' },
  exim: { debian: 'exim4', ubuntu: 'exim4' },
  dnsmasq: { debian: 'dnsmasq', ubuntu: 'dnsmasq' },
  proftpd: { debian: 'proftpd-dfsg', ubuntu: 'proftpd-dfsg' },
  vsftpd: { debian: 'vsftpd', ubuntu: 'vsftpd' },
  bind: { debian: 'bind9', ubuntu: 'bind9', epoch: 1 },
  samba: { debian: 'samba', ubuntu: 'samba', epoch: 2 },
  postfix: { debian: 'postfix', ubuntu: 'postfix' },
  lighttpd: { debian: 'lighttpd', ubuntu: 'lighttpd' },
  redis: { debian: 'redis', ubuntu: 'redis', epoch: 5 },
  openssl: { debian: 'openssl', ubuntu: 'openssl' },
  dropbear_ssh: { debian: 'dropbear', ubuntu: 'dropbear' },
  dropbear: { debian: 'dropbear', ubuntu: 'dropbear' },
  // MariaDB's source package carries the branch (mariadb-10.5 in bullseye, mariadb-10.6 in
  // jammy) except in bookworm and later, where it is plain `mariadb`; see mariadbPackage().
  mariadb: { debian: 'mariadb', ubuntu: 'mariadb', epoch: 1 },
};

/**
 * Whether a verdict can ever read a tracker row of this source package: the packages above,
 * and MariaDB's branch packages (mariadb-10.5, …). The tracker sources keep only these rows, so
 * a site's cve.db does not hold a whole distribution's tracker.
 */
export function isVerdictPackage(distro: 'debian' | 'ubuntu', sourcePackage: string): boolean {
  return /^mariadb(-\d+\.\d+)?$/.test(sourcePackage) || Object.values(packages).some((rule) => rule[distro] === sourcePackage);
}

/** Debian's `debNN` and Ubuntu's `ubuntu0.YY.MM` backport suffixes name the release. */
const debianReleases: Record<string, string> = { '9': 'stretch', '10': 'buster', '11': 'bullseye', '12': 'bookworm', '13': 'trixie' };
const ubuntuReleases: Record<string, string> = {
  '18.04': 'bionic',
  '20.04': 'focal',
  '22.04': 'jammy',
  '24.04': 'noble',
  '24.10': 'oracular',
  '25.04': 'plucky',
};

/**
 * The upstream version each release ships (its archive version at release time, which the
 * tracker's fixed versions for that release all start with: `1:8.9p1-3ubuntu0.x` in jammy).
 * Used only when the tag has no release suffix, and only when the version names one release.
 */
const shippedUpstream: Record<'debian' | 'ubuntu', Record<string, Record<string, string>>> = {
  debian: {
    openssh: { '7.9p1': 'buster', '8.4p1': 'bullseye', '9.2p1': 'bookworm', '10.0p1': 'trixie' },
    // apache2 is left out: bullseye and bookworm both ship 2.4.62 from security updates.
    nginx: { '1.14.2': 'buster', '1.18.0': 'bullseye', '1.22.1': 'bookworm', '1.26.3': 'trixie' },
    exim4: { '4.92': 'buster', '4.94.2': 'bullseye', '4.96': 'bookworm', '4.98.2': 'trixie' },
    dnsmasq: { '2.80': 'buster', '2.85': 'bullseye', '2.89': 'bookworm', '2.91': 'trixie' },
  },
  ubuntu: {
    openssh: { '8.2p1': 'focal', '8.9p1': 'jammy', '9.6p1': 'noble' },
    apache2: { '2.4.41': 'focal', '2.4.52': 'jammy', '2.4.58': 'noble' },
    nginx: { '1.24.0': 'noble' },
    exim4: { '4.93': 'focal', '4.95': 'jammy', '4.97': 'noble' },
    dnsmasq: { '2.80': 'focal', '2.86': 'jammy', '2.90': 'noble' },
  },
};

/** MariaDB's source package per release. */
function mariadbPackage(distro: 'debian' | 'ubuntu', release: string | undefined, upstream: string): string {
  const branch = /^(\d+\.\d+)/.exec(upstream)?.[1];
  if (distro === 'debian' && release !== undefined && ['bookworm', 'trixie'].includes(release)) return 'mariadb';
  if (distro === 'debian' && release === undefined && (branch === '10.11' || branch === '11.8')) return 'mariadb';
  return branch === undefined ? 'mariadb' : `mariadb-${branch}`;
}

function distroOf(tag: string): 'debian' | 'ubuntu' | undefined {
  if (/ubuntu/i.test(tag)) return 'ubuntu';
  if (/debian|deb\d+u\d|\+deb\d|~deb\d|raspbian/i.test(tag)) return 'debian';
  return undefined;
}

/** The release a revision's suffix names: `+deb12u3` → bookworm, `ubuntu0.22.04.1` → jammy. */
export function releaseOfRevision(revision: string): { distro: 'debian' | 'ubuntu'; release: string } | undefined {
  const deb = /(?:^|[+~.])deb(\d+)(?:u\d+)?(?:$|[+~.])/.exec(revision);
  if (deb) {
    const release = debianReleases[deb[1] as string];
    return release === undefined ? undefined : { distro: 'debian', release };
  }
  const ubuntu = /ubuntu\d*\.(\d\d\.\d\d)(?:$|\.)/.exec(revision);
  if (ubuntu) {
    const release = ubuntuReleases[ubuntu[1] as string];
    return release === undefined ? undefined : { distro: 'ubuntu', release };
  }
  return undefined;
}

/**
 * The revision in a distribution tag: `Debian-2+deb12u3` → `2+deb12u3`,
 * `Ubuntu-3ubuntu0.10` → `3ubuntu0.10`, `0+deb12u1` (glued) → itself, `(Debian)` → none.
 */
function revisionOf(tag: string): string | undefined {
  const word = /^(?:debian|ubuntu|raspbian|mariadb)-(\S+)$/i.exec(tag.trim());
  const text = word ? (word[1] as string) : (tag.trim().split(/\s+/)[0] ?? '');
  // BIND and MariaDB put the word after: `1:9.18.28-1~deb12u2-Debian`, `0+deb12u1-log`.
  const revision = text.replace(/-(?:debian|ubuntu|log|mariadb.*)$/i, '');
  return /^\d[A-Za-z0-9.+~]*$/.test(revision) ? revision : undefined;
}

/**
 * The distribution package behind a product's banner, or undefined when the tag names no
 * Debian or Ubuntu build or the product has no known source package.
 * product: CPE product name (`openssh`, `http_server`); upstream: the version NVD knows;
 * tag: the distribution part splitDistroRevision() left (`Debian-2+deb12u3`, `(Ubuntu)`).
 */
export function distroPackageOf(product: string, upstream: string, tag: string | undefined): DistroPackage | undefined {
  if (tag === undefined) return undefined;
  const distro = distroOf(tag);
  const rule = packages[product.toLowerCase()];
  if (distro === undefined || rule === undefined) return undefined;
  const revision = revisionOf(tag);
  const suffix = revision === undefined ? undefined : releaseOfRevision(revision);
  let release = suffix?.distro === distro ? suffix.release : undefined;
  const base = rule[distro];
  if (release === undefined) release = shippedUpstream[distro][base]?.[upstream];
  const sourcePackage = base === 'mariadb' ? mariadbPackage(distro, release, upstream) : base;
  const result: DistroPackage = { distro, sourcePackage };
  if (release !== undefined) result.release = release;
  if (revision !== undefined) {
    const version = `${rule.epoch ? `${rule.epoch}:` : ''}${upstream}-${revision}`;
    if (isDebianVersion(version)) result.packageVersion = version;
  }
  return result;
}

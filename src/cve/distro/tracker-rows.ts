import { isDebianVersion } from './debian-version.js';
import type { DistroStatusRow } from './status-rows.js';

/**
 * The one mapping from a tracker's per-release view to distro_status rows, used by the Debian and
 * Ubuntu sources and by scripts/build-starter-distro-status.ts, so a starter row and a fetched
 * row for the same tracker line are the same row.
 */

/** One Debian release view of a CVE × source package (the shape of debian-release-status.tsv). */
export interface DebianReleaseView {
  cve: string;
  package: string;
  release: string;
  /** A list kind (`fixed`, `not-affected`, `no-dsa`, …), or `inherits-unstable:<kind>` when the release follows unstable's line. */
  status: string;
  version: string;
  basis_and_note: string;
}

/** One Ubuntu (UCT) status line: `<release>_<package>: <status> (<note>)`. */
export interface UbuntuReleaseView {
  cve: string;
  package: string;
  release: string;
  status: string;
  note: string;
}

type Status = DistroStatusRow['status'];

/** Debian list kinds → our four statuses ("inherits-unstable:fixed V" is "fixed iff version >= V", the verdict's comparison). */
const debianKinds: Record<string, Status | null> = {
  fixed: 'fixed',
  'not-affected': 'not-affected',
  unfixed: 'vulnerable',
  'no-dsa': 'vulnerable', // no advisory will come; the release stays vulnerable until a point release
  ignored: 'vulnerable', // will not be fixed
  postponed: 'vulnerable',
  'end-of-life': 'unknown', // no longer supported: the tracker no longer decides
  removed: 'unknown',
  undetermined: 'unknown',
  itp: null, // not packaged yet: no row
};

/** UCT statuses → ours; DNE (no such package in the release) gives no row. */
const ubuntuStatuses: Record<string, Status | null> = {
  released: 'fixed',
  'released-esm': 'vulnerable', // fixed only in the paid ESM pocket, not in the release itself
  needed: 'vulnerable',
  active: 'vulnerable',
  pending: 'vulnerable',
  deferred: 'unknown', // as migration 2's comment says: the tracker does not decide yet
  'not-affected': 'not-affected',
  ignored: 'unknown',
  'needs-triage': 'unknown',
  DNE: null,
};

export class TrackerDataError extends Error {}

export function debianStatusRow(view: DebianReleaseView): DistroStatusRow | null {
  const kind = view.status.replace(/^inherits-unstable:/, '');
  if (!(kind in debianKinds)) throw new TrackerDataError(`unknown Debian status ${view.status} (${view.cve} ${view.package} ${view.release})`);
  const status = debianKinds[kind] as Status | null;
  if (status === null) return null;
  const advisory = /^(D[SL]A-\d+-\d+)/.exec(view.basis_and_note)?.[1] ?? null;
  return {
    distro: 'debian',
    release: view.release,
    package: view.package,
    cve_id: view.cve,
    status,
    fixed_version: status === 'fixed' ? view.version : null,
    ref: advisory,
    note: `${view.status}: ${view.basis_and_note}`,
  };
}

/** Plain codenames only: not upstream, devel or the ESM/FIPS pockets (esm-infra/focal, trusty/esm). */
export function isUbuntuRelease(release: string): boolean {
  return /^[a-z]+$/.test(release) && release !== 'upstream' && release !== 'devel';
}

export function ubuntuStatusRow(view: UbuntuReleaseView): DistroStatusRow | null {
  if (!isUbuntuRelease(view.release)) return null;
  if (!(view.status in ubuntuStatuses)) throw new TrackerDataError(`unknown Ubuntu status ${view.status} (${view.cve} ${view.package} ${view.release})`);
  let status = ubuntuStatuses[view.status] as Status | null;
  if (status === null) return null;
  // `released` without a readable version (old files say `released` alone): fixed, but from which version is not said.
  if (status === 'fixed' && !isDebianVersion(view.note)) status = 'unknown';
  return {
    distro: 'ubuntu',
    release: view.release,
    package: view.package,
    cve_id: view.cve,
    status,
    fixed_version: status === 'fixed' ? view.note : null,
    ref: null,
    note: `${view.status}${view.note ? `: ${view.note}` : ''}`,
  };
}

/** Rows in the starter file's order. */
export function sortStatusRows(rows: DistroStatusRow[]): DistroStatusRow[] {
  const key = (r: DistroStatusRow) => `${r.distro} ${r.release} ${r.package} ${r.cve_id}`;
  return rows.sort((a, b) => key(a).localeCompare(key(b)));
}

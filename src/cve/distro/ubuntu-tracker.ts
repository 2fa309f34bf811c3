import type { DistroStatusRow } from './status-rows.js';
import { TrackerDataError, ubuntuStatusRow, type UbuntuReleaseView } from './tracker-rows.js';
import { readTar } from './ustar.js';

/**
 * The Ubuntu CVE Tracker's native files (ubuntu-cve-tracker.git `active/`, `retired/`,
 * `ignored/`, one file per CVE): `Candidate: CVE-…` and one `<release>_<package>: <status>
 * (<note>)` line per release. ../shared/data/ubuntu/README.md describes the statuses.
 */

export class UctError extends TrackerDataError {}

const candidate = /^Candidate:\s*(CVE-\d{4}-\d{4,})\s*$/m;
const statusLine = /^([a-z][a-z0-9/.-]*)_([a-z0-9][a-z0-9.+-]*):[ \t]*(\S+)?(?:[ \t]+\((.*)\))?[ \t]*$/gm;

/** Every status line of one UCT file. */
export function parseUctFile(text: string, where: string): UbuntuReleaseView[] {
  const cve = candidate.exec(text)?.[1];
  if (cve === undefined) throw new UctError(`${where}: no "Candidate: CVE-…" line`);
  const views: UbuntuReleaseView[] = [];
  for (const match of text.matchAll(statusLine)) {
    if (match[3] === undefined) continue; // `upstream_x:` with nothing after it
    views.push({ cve, release: match[1] as string, package: match[2] as string, status: match[3], note: (match[4] ?? '').trim() });
  }
  return views;
}

/** A tracker file inside a snapshot archive (any top directory: `ubuntu-cve-tracker/`, `ubuntu-cve-tracker-master/`). */
export const uctFilePath = /(?:^|\/)(active|retired|ignored)\/CVE-\d{4}-\d{4,}$/;

/** distro_status rows from an uncompressed tar snapshot of the tracker. */
export function ubuntuTrackerRows(tar: Buffer): { files: number; rows: DistroStatusRow[] } {
  const files = readTar(tar).filter((file) => uctFilePath.test(file.path));
  if (files.length === 0) throw new UctError('the archive holds no active/, retired/ or ignored/ CVE files');
  const rows: DistroStatusRow[] = [];
  for (const file of files) {
    for (const view of parseUctFile(file.body.toString('utf8'), file.path)) {
      const row = ubuntuStatusRow(view);
      if (row !== null) rows.push(row);
    }
  }
  return { files: files.length, rows };
}

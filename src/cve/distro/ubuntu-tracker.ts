import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { DistroStatusRow } from './status-rows.js';
import { TrackerDataError, ubuntuStatusRow, type UbuntuReleaseView } from './tracker-rows.js';
import { TarError, TarReader, type TarFile } from './ustar.js';

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

/** distro_status rows from a gzipped tar snapshot of the tracker, read file by file as it is decompressed. */
export async function ubuntuTrackerRows(snapshotGz: Buffer, keep: (pkg: string) => boolean = () => true): Promise<{ files: number; rows: DistroStatusRow[] }> {
  const reader = new TarReader();
  const rows: DistroStatusRow[] = [];
  let files = 0;
  const take = (found: TarFile[]) => {
    for (const file of found) {
      if (!uctFilePath.test(file.path)) continue;
      files++;
      for (const view of parseUctFile(file.body.toString('utf8'), file.path)) {
        if (!keep(view.package)) continue;
        const row = ubuntuStatusRow(view);
        if (row !== null) rows.push(row);
      }
    }
  };
  try {
    for await (const chunk of Readable.from([snapshotGz]).pipe(createGunzip())) take(reader.push(chunk as Buffer));
  } catch (error) {
    if (error instanceof TrackerDataError || error instanceof TarError) throw error;
    throw new UctError(`the tracker snapshot is not gzip (${(error as Error).message})`);
  }
  reader.end();
  if (files === 0) throw new UctError('the archive holds no active/, retired/ or ignored/ CVE files');
  return { files, rows };
}

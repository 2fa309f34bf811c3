import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { DistroStatusRow } from './status-rows.js';
import { TrackerDataError, ubuntuStatusRow, type UbuntuReleaseView } from './tracker-rows.js';

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

/**
 * distro_status rows from a gzipped tar snapshot of the tracker (`git archive`, cgit's snapshot),
 * read file by file as it is decompressed (tar-stream), never held uncompressed.
 */
export async function ubuntuTrackerRows(snapshotGz: Buffer, keep: (pkg: string) => boolean = () => true): Promise<{ files: number; rows: DistroStatusRow[] }> {
  const rows: DistroStatusRow[] = [];
  let files = 0;
  const archive = extract();
  const read = (async () => {
    for await (const entry of archive) {
      const path = entry.header.name;
      if (entry.header.type !== 'file' || !uctFilePath.test(path)) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files++;
      for (const view of parseUctFile(Buffer.concat(chunks).toString('utf8'), path)) {
        if (!keep(view.package)) continue;
        const row = ubuntuStatusRow(view);
        if (row !== null) rows.push(row);
      }
    }
  })();
  try {
    await Promise.all([pipeline(Readable.from([snapshotGz]), createGunzip(), archive), read]);
  } catch (error) {
    if (error instanceof TrackerDataError) throw error;
    throw new UctError(`the tracker snapshot is not a whole .tar.gz (${(error as Error).message})`);
  }
  if (files === 0) throw new UctError('the archive holds no active/, retired/ or ignored/ CVE files');
  return { files, rows };
}

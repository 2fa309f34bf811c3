// Builds data/feed/starter-distro-status.json, the distribution tracker rows a new cve.db starts
// with, from ../shared/data (see debian/README.md and ubuntu/README.md there), through the same
// code the debian and ubuntu feed sources run (src/cve/distro/). Row meaning: src/cve/distro/status-rows.ts.
// - Debian: the tracker's own list entries (vuln-list-debian files = data/{CVE,DSA,DLA}/list entries).
// - Ubuntu: ubuntu-release-status.tsv, the UCT status lines of the fixture CVEs (current ones from
//   vuln-list JSON, older ones from the 2020 snapshot), mapped by the ubuntu source's own rule.
// Usage: npx tsx scripts/build-starter-distro-status.ts [shared-data-dir]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianEntryText, debianTrackerRows } from '../src/cve/distro/debian-tracker.js';
import { parseDistroStatusRows, type DistroStatusRow } from '../src/cve/distro/status-rows.js';
import { sortStatusRows, ubuntuStatusRow } from '../src/cve/distro/tracker-rows.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const shared = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'data'));
const out = path.join(root, 'data', 'feed', 'starter-distro-status.json');

/** One list file's text from the entries stored one per JSON file. */
function debianList(dir: string): string {
  const base = path.join(shared, 'debian', 'vuln-list-debian', 'tracker', dir);
  return readdirSync(base, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => debianEntryText(JSON.parse(readFileSync(path.join(base, file), 'utf8'))))
    .join('');
}

/** Rows of a derived TSV: `#` comment lines, then a header, then tab-separated rows. */
function readTsv(file: string): Record<string, string>[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  const header = (lines[0] ?? '').split('\t');
  return lines.slice(1).map((line) => Object.fromEntries(line.split('\t').map((value, k) => [header[k], value])));
}

const rows: DistroStatusRow[] = debianTrackerRows({ cve: debianList('CVE'), dsa: debianList('DSA'), dla: debianList('DLA') });
for (const row of readTsv(path.join(shared, 'ubuntu', 'ubuntu-release-status.tsv'))) {
  const mapped = ubuntuStatusRow({
    cve: row.cve ?? '',
    package: row.package ?? '',
    release: row.release ?? '',
    status: row.status ?? '',
    note: row.note ?? '',
  });
  if (mapped !== null) rows.push(mapped);
}
const sources = ['debian/vuln-list-debian/tracker/{CVE,DSA,DLA}', 'ubuntu/ubuntu-release-status.tsv'];
const valid = sortStatusRows(parseDistroStatusRows(rows));
writeFileSync(out, `${JSON.stringify({ sources, rows: valid }, null, 0).replace(/\},\{/g, '},\n{')}\n`);
console.log(`wrote ${valid.length} rows to ${path.relative(root, out)}`);

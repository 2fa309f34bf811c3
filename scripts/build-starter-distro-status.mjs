#!/usr/bin/env node
// Builds data/feed/starter-distro-status.json, the distribution tracker rows a new cve.db starts
// with, from the derived tracker views in ../shared/data (Debian security tracker and Ubuntu CVE
// tracker; see their README.md). Row meaning: src/cve/distro/status-rows.ts.
// Usage: node scripts/build-starter-distro-status.mjs [shared-data-dir]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const shared = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'data'));
const out = path.join(root, 'data', 'feed', 'starter-distro-status.json');

/** Rows of a derived TSV: `#` comment lines, then a header, then tab-separated rows. */
function readTsv(file) {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  const header = lines[0].split('\t');
  return lines.slice(1).map((line) => Object.fromEntries(line.split('\t').map((value, k) => [header[k], value])));
}

/** Debian release view → our four statuses (the tracker's rule for "inherits-unstable:fixed V" is "fixed iff version >= V"). */
const debianStatus = {
  fixed: 'fixed',
  'inherits-unstable:fixed': 'fixed',
  'not-affected': 'not-affected',
  'inherits-unstable:not-affected': 'not-affected',
  'inherits-unstable:unfixed': 'vulnerable',
  'no-dsa': 'vulnerable',
  'inherits-unstable:removed': 'unknown',
};

/** UCT statuses → ours; DNE (no such package in the release) gives no row. */
const ubuntuStatus = {
  released: 'fixed',
  needed: 'vulnerable',
  active: 'vulnerable',
  pending: 'vulnerable',
  deferred: 'unknown', // as migration 2's comment says: the tracker does not decide yet
  'not-affected': 'not-affected',
  ignored: 'unknown',
  'needs-triage': 'unknown',
  DNE: null,
};

const rows = [];
for (const row of readTsv(path.join(shared, 'debian', 'debian-release-status.tsv'))) {
  if (row.package === '' || row.release === '') continue; // "no package annotation" lines
  const status = debianStatus[row.status];
  if (status === undefined) throw new Error(`unknown Debian status ${row.status} (${row.cve} ${row.package} ${row.release})`);
  const advisory = /^(D[SL]A-\d+-\d+)/.exec(row.basis_and_note)?.[1] ?? null;
  rows.push({
    distro: 'debian',
    release: row.release,
    package: row.package,
    cve_id: row.cve,
    status,
    fixed_version: status === 'fixed' ? row.version : null,
    ref: advisory,
    note: `${row.status}: ${row.basis_and_note}`,
  });
}
for (const row of readTsv(path.join(shared, 'ubuntu', 'ubuntu-release-status.tsv'))) {
  // Plain codenames only: not upstream, devel or the ESM pockets (esm-infra/focal, trusty/esm).
  if (!/^[a-z]+$/.test(row.release) || row.release === 'upstream' || row.release === 'devel') continue;
  if (!(row.status in ubuntuStatus)) throw new Error(`unknown Ubuntu status ${row.status} (${row.cve} ${row.package} ${row.release})`);
  const status = ubuntuStatus[row.status];
  if (status === null) continue;
  rows.push({
    distro: 'ubuntu',
    release: row.release,
    package: row.package,
    cve_id: row.cve,
    status,
    fixed_version: status === 'fixed' ? row.note : null,
    ref: null,
    note: `${row.status}${row.note ? `: ${row.note}` : ''}`,
  });
}
rows.sort((a, b) => `${a.distro} ${a.release} ${a.package} ${a.cve_id}`.localeCompare(`${b.distro} ${b.release} ${b.package} ${b.cve_id}`));
const sources = ['debian/debian-release-status.tsv', 'ubuntu/ubuntu-release-status.tsv'];
writeFileSync(out, `${JSON.stringify({ sources, rows }, null, 0).replace(/\},\{/g, '},\n{')}\n`);
console.log(`wrote ${rows.length} rows to ${path.relative(root, out)}`);

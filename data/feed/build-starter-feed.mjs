#!/usr/bin/env node
// Rebuilds starter-feed.json.gz from NVD record files (one CVE per file, as the
// fkie-cad/nvd-json-data-feeds mirror stores them): node data/feed/build-starter-feed.mjs [dir]
// The output is one NVD CVE API 2.0 page, records unchanged, sorted by id, gzip without a
// file time so the same records always give the same bytes.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = process.argv[2] ?? path.resolve(here, '../../test/fixtures/nvd/records');
const records = readdirSync(source)
  .filter((name) => /^CVE-\d+-\d+\.json$/.test(name))
  .sort()
  .map((name) => JSON.parse(readFileSync(path.join(source, name), 'utf8')));
const newest = records.map((record) => record.lastModified).sort().at(-1);
const page = {
  resultsPerPage: records.length,
  startIndex: 0,
  totalResults: records.length,
  format: 'NVD_CVE',
  version: '2.0',
  timestamp: newest,
  vulnerabilities: records.map((cve) => ({ cve })),
};
const out = path.join(here, 'starter-feed.json.gz');
writeFileSync(out, gzipSync(Buffer.from(JSON.stringify(page)), { level: 9 }));
console.log(`${out}: ${records.length} records, newest lastModified ${newest}`);

#!/usr/bin/env node
// bench:cve — the CVE knowledge base at NVD scale. Builds a corpus of 300,000 records from the
// real NVD records (new ids, product names varied over 400 variants so each product gets a
// realistic number of CVEs and criteria), imports it with the real CLI (`cve-agent feed import`)
// into a fresh cve.db in a child process, and matches 1,000 detected services. Prints each
// figure next to the aim and next to a floor (gunzip + JSON.parse of the same corpus).
// Then applies a 1-day NVD delta (src/cve/delta.ts: 1,500 records, as NVD modifies in a day) to
// that agent's cve.db. Each figure is printed beside the aim and beside the reference
// measured before the compact store (issue 12: schema version 2).
// Run: npm run bench:cve   (BENCH_CVE_RECORDS=50000 for a smaller run; BENCH_CVE_KEEP=1 keeps the files)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import pino from 'pino';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nvdDir = process.env.BENCH_CVE_SOURCE ?? path.resolve(root, 'test/fixtures/nvd/records');
const total = Number(process.env.BENCH_CVE_RECORDS ?? 300_000);
const perPage = 2000;
const variants = 400;
const services = 1000;
const deltaRecords = 1500;
const aims = { importSeconds: 60, peakRssMb: 300, matchSeconds: 1, bytesPerCve: 1536, deltaSeconds: 5 };
// Before the compact store (cve.db schema version 2), from issue 12 (import and match in a quiet
// window on main) and from this bench on main (peak RSS, bytes per CVE).
const references = { importSeconds: 72, peakRssMb: 293, matchSeconds: 1.95, bytesPerCve: 7563, deltaSeconds: undefined };

const { openCveDatabase } = await import(path.join(root, 'dist/agent/cve/cve-database.js'));
const { createCveMatcher } = await import(path.join(root, 'dist/cve/matcher.js'));
const { applyDelta, decodeDelta, encodeDelta } = await import(path.join(root, 'dist/cve/delta.js'));

// A deterministic generator, so two runs see the same corpus and the same services.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

const templates = readdirSync(nvdDir)
  .filter((name) => /^CVE-\d+-\d+\.json$/.test(name))
  .sort()
  .map((name) => {
    const record = JSON.parse(readFileSync(path.join(nvdDir, name), 'utf8'));
    return { id: record.id, year: record.id.split('-')[1], text: JSON.stringify(record) };
  });

/** Record n of the corpus: template n % T, product names suffixed by the variant, a new id. */
function recordText(n) {
  const template = templates[n % templates.length];
  const copy = Math.floor(n / templates.length);
  const variant = copy % variants;
  let text = template.text.replace(`"id":"${template.id}"`, `"id":"CVE-${template.year}-${1_000_000 + n}"`);
  if (variant > 0) text = text.replace(/(cpe:2\.3:[aoh]:[^:"]+:)([^:"]+)/g, `$1$2_v${variant}`);
  return text;
}

function buildCorpus(dir) {
  let bytes = 0;
  for (let start = 0, page = 0; start < total; start += perPage, page += 1) {
    const count = Math.min(perPage, total - start);
    const records = [];
    for (let n = start; n < start + count; n += 1) records.push(recordText(n));
    const text = `{"resultsPerPage":${count},"startIndex":${start},"totalResults":${total},"format":"NVD_CVE","version":"2.0","timestamp":"2026-01-01T00:00:00.000","vulnerabilities":[{"cve":${records.join('},{"cve":')}}]}`;
    bytes += text.length;
    writeFileSync(path.join(dir, `page-${String(page).padStart(4, '0')}.json.gz`), gzipSync(text, { level: 1 }));
  }
  return bytes;
}

/** The floor any import pays: read, gunzip and parse every page. */
function parseFloor(dir) {
  const started = performance.now();
  let records = 0;
  for (const file of readdirSync(dir).sort()) records += JSON.parse(gunzipSync(readFileSync(path.join(dir, file))).toString('utf8')).vulnerabilities.length;
  return { seconds: (performance.now() - started) / 1000, records };
}

const statusKb = (pid, field) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return Number(line.split(/\s+/)[1]);
  } catch {
    return undefined;
  }
};

/** The real CLI in its own process; VmHWM (the kernel's peak RSS) is polled until it exits. */
function importWithCli(corpus, stateDir) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(root, 'dist/cli/cve-agent.js'), '--data-dir', stateDir, '--json', 'feed', 'import', corpus], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let peakKb = 0;
    let cpuSeconds = 0;
    const poll = setInterval(() => {
      peakKb = Math.max(peakKb, statusKb(child.pid, 'VmHWM') ?? 0);
      try {
        // utime + stime of the whole process (all threads), in clock ticks of 1/100 s.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        // The process has exited between two polls; the last figures stand.
      }
    }, 20);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`feed import exited ${code}`));
      resolve({ seconds: (performance.now() - started) / 1000, peakMb: peakKb / 1024, cpuSeconds, result: JSON.parse(out) });
    });
  });
}

const productVersions = {
  openssh: ['5.3p1', '6.6.1p1', '7.2p2', '7.4p1', '7.9p1', '8.2p1', '8.4p1', '8.9p1', '9.2p1', '9.6p1', '9.8p1'],
  apache: ['2.2.34', '2.4.29', '2.4.41', '2.4.49', '2.4.54', '2.4.57', '2.4.62'],
  nginx: ['1.4.0', '1.12.1', '1.14.2', '1.18.0', '1.20.0', '1.22.1', '1.24.0'],
  dnsmasq: ['2.45', '2.76', '2.80', '2.85', '2.89', '2.90'],
  dropbear: ['2014.63', '2016.74', '2018.76', '2019.78', '2020.81', '2022.83'],
  proftpd: ['1.3.3c', '1.3.5', '1.3.5b', '1.3.6', '1.3.7a', '1.3.8'],
  bind: ['9.11.5', '9.16.1', '9.16.8-S1', '9.18.1', '9.18.24'],
  exim: ['4.87', '4.90', '4.92', '4.94', '4.96'],
  samba: ['3.6.25', '4.4.5', '4.13.2', '4.15.3', '4.17.12'],
  lighttpd: ['1.4.45', '1.4.53', '1.4.59', '1.4.64'],
  routeros: ['6.40.5 long-term', '6.42.1', '6.44beta20', '6.45.9', '6.48.6 long-term', '6.49.7', '7.1rc1', '7.12.1'],
};
const productNames = {
  openssh: ['openbsd', 'openssh', 'a'],
  apache: ['apache', 'http_server', 'a'],
  nginx: ['f5', 'nginx', 'a'],
  dnsmasq: ['thekelleys', 'dnsmasq', 'a'],
  dropbear: ['dropbear_ssh_project', 'dropbear_ssh', 'a'],
  proftpd: ['proftpd', 'proftpd', 'a'],
  bind: ['isc', 'bind', 'a'],
  exim: ['exim', 'exim', 'a'],
  samba: ['samba', 'samba', 'a'],
  lighttpd: ['lighttpd', 'lighttpd', 'a'],
  routeros: ['mikrotik', 'routeros', 'o'],
};

/** 1,000 detected services: the products a site runs, each as one of its 400 corpus variants, real versions, some with distro revisions. */
function detectedServices() {
  const keys = Object.keys(productVersions);
  const list = [];
  for (let i = 0; i < services; i += 1) {
    const key = keys[Math.floor(random() * keys.length)];
    const versions = productVersions[key];
    const variant = Math.floor(random() * variants);
    const version = versions[Math.floor(random() * versions.length)];
    const [vendor, product] = productNames[key];
    const name = variant === 0 ? key : `${product}_v${variant}`;
    // Variants are unknown to the product rules: name them by CPE vendor, as the scan pipeline would.
    list.push(variant === 0 ? { product: name, version: random() < 0.2 ? `${version} Debian-2+deb12u3` : version } : { product: name, vendor, version });
  }
  return list;
}

/**
 * A day of NVD changes as the control plane would ship them: records of the corpus modified a day
 * later (a reference added, as a reanalysis does) and one in ten new CVEs.
 */
function dayDelta() {
  const lines = [];
  for (let i = 0; i < deltaRecords; i += 1) {
    const isNew = i % 10 === 0;
    const n = Math.floor(random() * total);
    const record = JSON.parse(recordText(n));
    if (isNew) record.id = `CVE-2026-${2_000_000 + i}`;
    record.lastModified = '2026-01-02T00:00:00.000';
    record.references.push({ url: `https://example.org/advisory/${i}`, source: 'bench', tags: ['Vendor Advisory'] });
    lines.push({ t: 'nvd', record });
  }
  const header = {
    format: 'edge-cve-delta/1',
    from: 0,
    to: 1,
    created_at: '2026-01-02T00:00:00.000Z',
    data_as_of: { nvd: '2026-01-02T00:00:00.000Z' },
    replace: [],
  };
  return encodeDelta({ header, lines });
}

function timeOpen(stateDir, integrity) {
  const started = performance.now();
  const db = new Database(path.join(stateDir, 'cve.db'));
  if (integrity) db.pragma('quick_check(1)');
  db.close();
  return (performance.now() - started) / 1000;
}

const work = mkdtempSync(path.join(tmpdir(), 'bench-cve-'));
try {
  const corpus = path.join(work, 'corpus');
  const stateDir = path.join(work, 'state');
  mkdirSync(corpus);
  let started = performance.now();
  const corpusBytes = buildCorpus(corpus);
  const buildSeconds = (performance.now() - started) / 1000;
  const floor = parseFloor(corpus);
  const loadBefore = loadavg()[0].toFixed(2);
  const imported = await importWithCli(corpus, stateDir);
  const loadAfter = loadavg()[0].toFixed(2);
  const dbBytes = statSync(path.join(stateDir, 'cve.db')).size;
  const openPlain = timeOpen(stateDir, false);
  const openChecked = timeOpen(stateDir, true);

  const logger = pino({ level: 'warn' }, pino.destination(2));
  const database = openCveDatabase({ stateDir, logger });
  const counts = database.store.counts();
  const matcher = createCveMatcher(database.store);
  const list = detectedServices();
  started = performance.now();
  const matchCpu = process.cpuUsage();
  let findings = 0;
  let withFindings = 0;
  for (const service of list) {
    const found = matcher.matchService(service).length;
    findings += found;
    if (found > 0) withFindings += 1;
  }
  const matchSeconds = (performance.now() - started) / 1000;
  // CPU time beside wall time: on a shared machine the gap is time spent waiting for a CPU.
  const matchCpuUsed = process.cpuUsage(matchCpu);
  const matchCpuSeconds = (matchCpuUsed.user + matchCpuUsed.system) / 1e6;

  // The 1-day delta: decoded and applied in one transaction, as the agent does with a pushed file.
  const deltaBytes = dayDelta();
  started = performance.now();
  const applied = applyDelta(database.db, decodeDelta(deltaBytes), logger);
  const deltaSeconds = (performance.now() - started) / 1000;
  const afterDelta = database.store.counts();
  database.close();
  const dbBytesAfterDelta = statSync(path.join(stateDir, 'cve.db')).size;

  const rate = imported.result.records / imported.seconds;
  const bytesPerCve = dbBytes / counts.cves;
  const fixed = (value) => (value === undefined ? '' : value.toFixed(2));
  // The aim is a ceiling, or a floor when more is better (the import rate).
  const row = (name, value, unit, aim, reference, note = '', moreIsBetter = false) =>
    `${name.padEnd(30)} ${value.toFixed(2).padStart(10)} ${unit.padEnd(6)} ${fixed(aim).padStart(9)} ${(aim === undefined ? '' : (value / aim).toFixed(2)).padStart(6)} ${(aim === undefined ? '' : (moreIsBetter ? value >= aim : value <= aim) ? 'yes' : 'NO').padStart(4)} ${fixed(reference).padStart(10)}  ${note}`;
  console.log(
    `corpus: ${total} records (${templates.length} real NVD records x ${Math.ceil(total / templates.length)} copies, products in ${variants} variants), ${(corpusBytes / 2 ** 20).toFixed(0)} MiB of JSON in ${Math.ceil(total / perPage)} gzip pages, built in ${buildSeconds.toFixed(1)} s`,
  );
  console.log(
    `machine: ${availableParallelism()} CPUs, load average ${loadBefore} before the import, ${loadAfter} after (other work on the machine slows every figure)`,
  );
  console.log(
    `database: ${counts.cves} CVEs, ${counts.index_rows} cpe_match rows, ${counts.unanalysed} without configurations; import counts ${JSON.stringify(imported.result.counts)}`,
  );
  console.log(
    `${'figure'.padEnd(30)} ${'measured'.padStart(10)} ${'unit'.padEnd(6)} ${'aim'.padStart(9)} ${'ratio'.padStart(6)} ${'met'.padStart(4)} ${'before'.padStart(10)}  note ("before": cve.db schema 2, see references in this script)`,
  );
  console.log(
    row(
      'import time',
      imported.seconds,
      's',
      aims.importSeconds,
      references.importSeconds,
      `floor (gunzip + JSON.parse only): ${floor.seconds.toFixed(2)} s, import/floor ${(imported.seconds / floor.seconds).toFixed(2)}`,
    ),
  );
  console.log(
    row(
      'import CPU time (all threads)',
      imported.cpuSeconds,
      's',
      undefined,
      undefined,
      `${((imported.cpuSeconds / imported.seconds) * 100).toFixed(0)} % of one CPU on average: a parser thread and a writer thread`,
    ),
  );
  console.log(
    row(
      'import rate',
      rate,
      'rec/s',
      Math.round(total / aims.importSeconds),
      total / references.importSeconds,
      `floor: ${Math.round(floor.records / floor.seconds)} rec/s`,
      true,
    ),
  );
  console.log(row('peak RSS during import', imported.peakMb, 'MiB', aims.peakRssMb, references.peakRssMb, 'VmHWM of the cve-agent feed import process'));
  console.log(
    row(
      'database size',
      dbBytes / 2 ** 20,
      'MiB',
      undefined,
      (references.bytesPerCve * total) / 2 ** 20,
      `corpus JSON ${(corpusBytes / 2 ** 20).toFixed(0)} MiB`,
    ),
  );
  console.log(row('bytes per CVE on disk', bytesPerCve, 'B', aims.bytesPerCve, references.bytesPerCve, 'cve.db size / CVEs held (1.5 KB aim)'));
  console.log(
    row(
      `match ${services} services`,
      matchSeconds,
      's',
      aims.matchSeconds,
      references.matchSeconds,
      `${((matchSeconds * 1000) / services).toFixed(3)} ms each; ${findings} findings, ${withFindings} services with findings; ${matchCpuSeconds.toFixed(2)} s CPU (all threads, GC included)`,
    ),
  );
  console.log(
    row(
      `1-day NVD delta (${deltaRecords} records)`,
      deltaSeconds,
      's',
      aims.deltaSeconds,
      references.deltaSeconds,
      `decode + apply, one transaction; ${(deltaBytes.length / 2 ** 20).toFixed(1)} MiB gzip; ${applied.records} records, CVEs ${counts.cves} -> ${afterDelta.cves}; cve.db ${(dbBytesAfterDelta / 2 ** 20).toFixed(1)} MiB after`,
    ),
  );
  console.log(row('open cve.db, no quick_check', openPlain, 's', undefined, undefined, 'what openCveDatabase does (integrityCheck: false)'));
  console.log(row('open cve.db + quick_check(1)', openChecked, 's', undefined, undefined, "what openSqlite's default check would cost at every open"));
} finally {
  if (process.env.BENCH_CVE_KEEP) console.log(`kept ${work} (corpus/ and state/cve.db)`);
  else rmSync(work, { recursive: true, force: true });
}

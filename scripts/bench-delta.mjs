#!/usr/bin/env node
// bench:delta — a feed delta as the control plane's hub builds it and an agent applies it.
// N changed NVD records (the real NVD records of test/fixtures with new ids; 2,000 is about one
// day of NVD changes) plus the real KEV catalog go into a fresh feed.db; the hub's writeDelta
// encodes the snapshot and the agent's applyDeltaFile checks and applies it to a fresh cve.db
// (starter feed loaded), in one transaction. Prints bytes and times.
// Run: npm run bench:delta   (BENCH_DELTA_RECORDS=20000 for a larger one)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openFeedStore } = await import(path.join(root, 'dist/control-plane/feeds/feed-store.js'));
const { applyDeltaFile } = await import(path.join(root, 'dist/cve/delta.js'));
const { openCveDatabase } = await import(path.join(root, 'dist/agent/cve/cve-database.js'));

const total = Number(process.env.BENCH_DELTA_RECORDS ?? 2000);
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(path.join(tmpdir(), 'bench-delta-'));
const nvdDir = path.join(root, 'test/fixtures/nvd/records');
const templates = readdirSync(nvdDir)
  .filter((name) => /^CVE-\d+-\d+\.json$/.test(name))
  .sort()
  .map((name) => readFileSync(path.join(nvdDir, name), 'utf8'));
const kev = JSON.parse(readFileSync(path.resolve(root, '../shared/data/kev/known_exploited_vulnerabilities.json'), 'utf8')).vulnerabilities;

try {
  mkdirSync(path.join(dir, 'hub'));
  const store = openFeedStore({ file: path.join(dir, 'hub', 'feed.db'), logger });
  for (let start = 0; start < total; start += 1000) {
    const batch = [];
    for (let n = start; n < Math.min(total, start + 1000); n += 1) {
      const record = JSON.parse(templates[n % templates.length]);
      record.id = `CVE-2026-${1_000_000 + n}`;
      batch.push(record);
    }
    store.keepRawRecords(batch);
  }
  const put = store.db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
  store.db.transaction(() => {
    for (const k of kev)
      put.run(k.cveID, k.dateAdded, k.dueDate, k.knownRansomwareCampaignUse === 'Known' ? 1 : 0, k.vendorProject, k.product, k.vulnerabilityName);
  })();
  store.setDataAsOf('nvd', '2026-12-01T00:00:00.000Z');
  store.recordVersion(new Date());

  let started = performance.now();
  const { bytes, lines } = store.writeDelta(0, new Date());
  const buildSeconds = (performance.now() - started) / 1000;
  store.close();
  const file = path.join(dir, 'feed-delta-0-1.jsonl.gz');
  writeFileSync(file, bytes);

  const agent = openCveDatabase({ stateDir: path.join(dir, 'agent'), logger, loadStarterFeed: true });
  started = performance.now();
  const applied = await applyDeltaFile(agent.db, file, logger);
  const applySeconds = (performance.now() - started) / 1000;
  agent.close();
  console.log(`load average ${loadavg()[0].toFixed(1)}`);
  console.log(`delta: ${total} NVD records + ${kev.length} KEV rows = ${lines} lines, ${(bytes.length / 1048576).toFixed(1)} MiB gzip`);
  console.log(`hub writeDelta: ${buildSeconds.toFixed(2)} s`);
  console.log(
    `agent applyDeltaFile (check + apply in one transaction): ${applySeconds.toFixed(2)} s (aim for a 1-day delta: under 5 s); ${applied.records} records, ${applied.rows} rows`,
  );
  console.log(`agent cve.db: ${(statSync(path.join(dir, 'agent', 'cve.db')).size / 1048576).toFixed(1)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

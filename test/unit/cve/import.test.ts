import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CveError } from '../../../src/cve/errors.js';
import { importBatch, importFeedBytes, importFeedFiles } from '../../../src/cve/import.js';
import { tempDir } from '../../helpers/temp.js';
import { allRealRecords, ids, knowledgeBase, realRecord, recordsDir, type TestKnowledgeBase } from './fixtures.js';

const opened: TestKnowledgeBase[] = [];
function fresh(records: readonly unknown[] = []): TestKnowledgeBase {
  const kb = knowledgeBase(records);
  opened.push(kb);
  return kb;
}
afterEach(() => {
  for (const kb of opened.splice(0)) kb.dispose();
});

function page(records: readonly unknown[]) {
  return {
    resultsPerPage: records.length,
    startIndex: 0,
    totalResults: records.length,
    format: 'NVD_CVE',
    version: '2.0',
    timestamp: '2026-01-01T00:00:00.000',
    vulnerabilities: records.map((cve) => ({ cve })),
  };
}

function laterThan(time: string, days: number): string {
  return new Date(new Date(`${time}Z`).getTime() + days * 86400000).toISOString().replace('Z', '');
}

describe('importing records', () => {
  it('keeps the same record twice as one row, in one batch or in two', () => {
    const record = realRecord('CVE-2024-6387');
    const kb = fresh();
    const first = importBatch(kb.store, [record, realRecord('CVE-2024-6387')], { source: 'test', logger: kb.log.logger });
    expect(first).toMatchObject({ inserted: 1, unchanged: 1 });
    const indexRows = () => kb.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM cpe_match').get()?.n;
    // One index row per vendor:product the record names (OpenSSH, and the distributions NVD lists).
    expect(indexRows()).toBe(20);
    const second = importBatch(kb.store, [record], { source: 'test', logger: kb.log.logger });
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    expect(kb.store.counts()).toMatchObject({ cves: 1 });
    expect(indexRows()).toBe(20);
  });

  it('replaces an older copy with a newer lastModified, and ignores an older one', () => {
    const kb = fresh([realRecord('CVE-2021-41773')]);
    expect(ids(kb.matcher.matchService({ product: 'apache', version: '2.4.49' }))).toContain('CVE-2021-41773');
    // A re-analysis: NVD widens the record to 2.4.50 and rescores it.
    const newer = realRecord('CVE-2021-41773');
    newer.lastModified = laterThan(newer.lastModified, 10);
    const configurations = newer.configurations as { nodes: { cpeMatch: { criteria: string }[] }[] }[];
    const entry = configurations[0]?.nodes[0]?.cpeMatch.find((match) => match.criteria.includes(':http_server:2.4.49:'));
    if (!entry) throw new Error('fixture changed: no http_server 2.4.49 entry');
    entry.criteria = entry.criteria.replace(':2.4.49:', ':2.4.50:');
    expect(importBatch(kb.store, [newer], { source: 'test', logger: kb.log.logger })).toMatchObject({ updated: 1 });
    expect(ids(kb.matcher.matchService({ product: 'apache', version: '2.4.49' }))).not.toContain('CVE-2021-41773');
    expect(ids(kb.matcher.matchService({ product: 'apache', version: '2.4.50' }))).toContain('CVE-2021-41773');
    // The original, older copy arrives late (a stale feed file): it changes nothing.
    expect(importBatch(kb.store, [realRecord('CVE-2021-41773')], { source: 'test', logger: kb.log.logger })).toMatchObject({ older: 1, updated: 0 });
    expect(ids(kb.matcher.matchService({ product: 'apache', version: '2.4.50' }))).toContain('CVE-2021-41773');
    expect(kb.store.get('CVE-2021-41773')?.lastModified).toBe(new Date(`${newer.lastModified}Z`).toISOString());
  });

  it('removes a CVE NVD rejects, and an older copy cannot bring it back', () => {
    const kb = fresh([realRecord('CVE-2021-42013')]);
    const rejected = realRecord('CVE-2021-42013');
    rejected.vulnStatus = 'Rejected';
    rejected.lastModified = laterThan(rejected.lastModified, 30);
    rejected.configurations = [];
    rejected.metrics = {};
    expect(importBatch(kb.store, [rejected], { source: 'test', logger: kb.log.logger })).toMatchObject({ removed: 1 });
    expect(kb.store.get('CVE-2021-42013')).toBeUndefined();
    expect(kb.store.isRejected('CVE-2021-42013')).toBe(true);
    expect(kb.store.counts()).toMatchObject({ cves: 0, rejected: 1 });
    expect(kb.db.prepare('SELECT count(*) AS n FROM cpe_match').get()).toEqual({ n: 0 });
    expect(kb.matcher.matchService({ product: 'apache', version: '2.4.50' })).toEqual([]);
    expect(importBatch(kb.store, [realRecord('CVE-2021-42013')], { source: 'test', logger: kb.log.logger })).toMatchObject({ older: 1, inserted: 0 });
    expect(kb.store.get('CVE-2021-42013')).toBeUndefined();
  });

  it('skips a malformed record with a log line naming the CVE, and imports the rest of the batch', () => {
    const kb = fresh();
    const noPublished = realRecord('CVE-2023-51385');
    delete noPublished.published;
    const badCriteria = realRecord('CVE-2022-31813');
    (badCriteria.configurations as { nodes: { cpeMatch: { criteria: string }[] }[] }[])[0]!.nodes[0]!.cpeMatch[0]!.criteria = 'apache http_server 2.4';
    const badScore = realRecord('CVE-2023-28450');
    (badScore.metrics as { cvssMetricV31: { cvssData: { baseScore: unknown } }[] }).cvssMetricV31[0]!.cvssData.baseScore = 'high';
    const counts = importBatch(kb.store, [realRecord('CVE-2024-6387'), noPublished, badCriteria, 'not a record', badScore, realRecord('CVE-2021-41773')], {
      source: 'batch-under-test',
      logger: kb.log.logger,
    });
    expect(counts).toMatchObject({ inserted: 2, skipped: 4 });
    const skipped = kb.log.lines().filter((line) => line.msg === 'skipped malformed CVE record');
    expect(skipped.map((line) => line.cve)).toEqual(['CVE-2023-51385', 'CVE-2022-31813', '(no id)', 'CVE-2023-28450']);
    expect(skipped.every((line) => line.source === 'batch-under-test')).toBe(true);
    expect(skipped[0]?.reason).toContain('published');
    expect(skipped[1]?.reason).toContain('configurations.0.nodes.0.cpeMatch.0.criteria: expected a CPE 2.3 formatted string');
    expect(skipped[3]?.reason).toContain('metrics.cvssMetricV31.0.cvssData.baseScore');
    expect(kb.store.get('CVE-2024-6387')).toBeDefined();
    expect(kb.store.get('CVE-2021-41773')).toBeDefined();
  });

  it('keeps what a finding and matching need, in compact form, and no raw NVD JSON', () => {
    const kb = fresh([realRecord('CVE-2024-6387'), realRecord('CVE-2021-25216')]);
    const record = kb.store.get('CVE-2024-6387');
    const raw = realRecord('CVE-2024-6387') as unknown as { references: { url: string; tags?: string[] }[] };
    expect(record).toMatchObject({
      id: 'CVE-2024-6387',
      vulnStatus: 'Modified',
      published: '2024-07-01T13:15:06.467Z',
      lastModified: '2024-07-09T06:15:03.513Z',
      cwes: ['CWE-362', 'CWE-364'],
      analysed: true,
    });
    expect(record?.description).toMatch(/^A security regression \(CVE-2006-5051\) was discovered in OpenSSH's server/);
    // The references a finding's advice cites; the others stay with the control plane.
    const advice = raw.references.filter((reference) => (reference.tags ?? []).some((tag) => ['Patch', 'Vendor Advisory', 'Mitigation'].includes(tag)));
    expect(advice.length).toBeGreaterThan(0);
    expect(record?.adviceReferences).toEqual(advice.map((reference) => ({ url: reference.url, tags: reference.tags ?? [] })));
    const vector = 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H';
    expect(record?.score).toEqual({ version: '3.1', source: 'nvd@nist.gov', type: 'Primary', score: 8.1, severity: 'HIGH', vector });
    // Every vulnerable openssh entry, its criteria string exactly as NVD wrote it.
    const rawCriteria = (
      realRecord('CVE-2024-6387') as unknown as { configurations: { nodes: { cpeMatch: { criteria: string; vulnerable: boolean }[] }[] }[] }
    ).configurations
      .flatMap((configuration) => configuration.nodes.flatMap((node) => node.cpeMatch))
      .filter((entry) => entry.vulnerable && entry.criteria.startsWith('cpe:2.3:a:openbsd:openssh:'))
      .map((entry) => entry.criteria);
    expect(kb.store.criteriaByProduct('openbsd', 'openssh').map((row) => row.criteria)).toEqual(rawCriteria);
    // Plain OR statements are answered by the index alone: no configurations kept.
    expect(record?.configurations).toBeNull();
    // AND statements (firmware on hardware) keep their configurations, as NVD sent them but for matchCriteriaId.
    const nested = realRecord('CVE-2021-25216') as unknown as { configurations: { nodes: { cpeMatch: Record<string, unknown>[] }[] }[] };
    const lean = nested.configurations.map((configuration) => ({
      negate: false,
      ...configuration,
      nodes: configuration.nodes.map((node) => ({ ...node, cpeMatch: node.cpeMatch.map(({ matchCriteriaId: _id, ...entry }) => entry) })),
    }));
    expect(kb.store.get('CVE-2021-25216')?.configurations).toEqual(lean);
  });
});

describe('negate', () => {
  // A derivative of a real record (NVD data is public domain): dnsmasq < 2.90 unless the host runs Windows.
  function negated() {
    const record = realRecord('CVE-2023-28450');
    record.id = 'CVE-2023-9928450';
    const [configuration] = record.configurations as { operator?: string; nodes: unknown[] }[];
    if (!configuration) throw new Error('fixture changed');
    configuration.operator = 'AND';
    configuration.nodes.push({
      operator: 'OR',
      negate: true,
      cpeMatch: [{ vulnerable: false, criteria: 'cpe:2.3:o:microsoft:windows:*:*:*:*:*:*:*:*', matchCriteriaId: '00000000-0000-0000-0000-000000000001' }],
    });
    return record;
  }

  it('holds when the platform is absent, fails when it is present, and is assumed when unobserved', () => {
    const kb = fresh([negated()]);
    const debian = kb.matcher.matchService({ product: 'dnsmasq', version: '2.89' }, { platforms: ['cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*'] });
    expect(debian.find((finding) => finding.cve_id === 'CVE-2023-9928450')).toMatchObject({ confidence: 1, assumptions: [] });
    const windows = kb.matcher.matchService({ product: 'dnsmasq', version: '2.89' }, { platforms: ['cpe:2.3:o:microsoft:windows:10:*:*:*:*:*:*:*'] });
    expect(ids(windows)).not.toContain('CVE-2023-9928450');
    const unknown = kb.matcher.matchService({ product: 'dnsmasq', version: '2.89' });
    expect(unknown.find((finding) => finding.cve_id === 'CVE-2023-9928450')?.assumptions).toEqual(['assumed the host does not run microsoft windows']);
    expect(ids(kb.matcher.matchService({ product: 'dnsmasq', version: '2.90' }))).toEqual([]);
  });
});

describe('feed files', () => {
  it('imports a directory of single-record files, gzip pages and a {cve} wrapper, batch by batch', async () => {
    const dir = tempDir();
    const records = allRealRecords();
    mkdirSync(path.join(dir, 'nested'));
    // 30 single-record files, one gzip page of 40 and a wrapper; the last 8 records go in a second plain page.
    records.slice(0, 30).forEach((record, index) => writeFileSync(path.join(dir, `r${String(index).padStart(2, '0')}.json`), JSON.stringify(record)));
    writeFileSync(path.join(dir, 'nested', 'page.json.gz'), gzipSync(JSON.stringify(page(records.slice(30, 70)))));
    writeFileSync(path.join(dir, 'wrapped.json'), JSON.stringify({ cve: records[70] }));
    writeFileSync(path.join(dir, 'z-page.json'), JSON.stringify(page(records.slice(71))));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a feed file');
    const kb = fresh();
    const batches: string[] = [];
    const result = await importFeedFiles({
      store: kb.store,
      logger: kb.log.logger,
      paths: [dir],
      batchSize: 20,
      onBatch: ({ source }) => batches.push(path.basename(source)),
    });
    expect(result.counts).toMatchObject({ inserted: 78, skipped: 0 });
    expect(result.records).toBe(78);
    expect(kb.store.counts()).toMatchObject({ cves: 78 });
    expect(batches.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(kb.store.getMeta('last_import') ?? '{}')).toMatchObject({ source: dir, inserted: 78 });
    // Same files again: nothing changes.
    const again = await importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [dir] });
    expect(again.counts).toMatchObject({ inserted: 0, unchanged: 78 });
  });

  it('imports the real record directory as NVD publishes it', async () => {
    const kb = fresh();
    const result = await importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [recordsDir] });
    expect(result.counts.inserted).toBe(78);
  });

  it('skips a record whose JSON is broken inside a page, naming it, and keeps the page', async () => {
    const dir = tempDir();
    const text = JSON.stringify(page([realRecord('CVE-2024-6387'), realRecord('CVE-2023-38408')]));
    // Break the second record: a stray token inside it, the page structure intact.
    const broken = text.replace('"id":"CVE-2023-38408",', '"id":"CVE-2023-38408",oops,');
    writeFileSync(path.join(dir, 'page.json'), broken);
    const kb = fresh();
    const result = await importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [dir] });
    expect(result.counts).toMatchObject({ inserted: 1, skipped: 1 });
    expect(kb.log.lines().find((line) => line.msg === 'skipped malformed CVE record')).toMatchObject({
      cve: 'CVE-2023-38408',
      reason: expect.stringContaining('not valid JSON'),
    });
  });

  it('refuses a file that is not JSON or not NVD, and a path that does not exist, with typed errors', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.json'), '{"resultsPerPage": 1, "vulnerabilities": [');
    const kb = fresh();
    await expect(importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [dir] })).rejects.toMatchObject({
      code: 'CVE_ERR_FEED_INVALID',
      message: expect.stringContaining('a.json: not JSON'),
    });
    writeFileSync(path.join(dir, 'a.json'), '{"hello": "world"}');
    await expect(importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [dir] })).rejects.toMatchObject({ code: 'CVE_ERR_FEED_INVALID' });
    writeFileSync(path.join(dir, 'a.json.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => importFeedBytes(kb.store, Buffer.from([0x1f, 0x8b, 1, 2, 3]), { source: 'pushed.gz', logger: kb.log.logger })).toThrow(CveError);
    await expect(importFeedFiles({ store: kb.store, logger: kb.log.logger, paths: [path.join(dir, 'missing')] })).rejects.toMatchObject({
      code: 'CVE_ERR_FEED_UNREADABLE',
    });
    expect(kb.store.counts().cves).toBe(0);
  });

  it('stops at the next batch when the signal aborts', async () => {
    const dir = tempDir();
    allRealRecords().forEach((record, index) => writeFileSync(path.join(dir, `r${String(index).padStart(2, '0')}.json`), JSON.stringify(record)));
    const kb = fresh();
    const controller = new AbortController();
    const run = importFeedFiles({
      store: kb.store,
      logger: kb.log.logger,
      paths: [dir],
      batchSize: 10,
      signal: controller.signal,
      onBatch: () => controller.abort(new Error('stop')),
    });
    await expect(run).rejects.toThrow('stop');
    // The first batch committed whole; nothing after it.
    expect(kb.store.counts().cves).toBe(10);
  });

  it('imports pushed bytes (the control plane path) the same way', () => {
    const kb = fresh();
    const counts = importFeedBytes(kb.store, gzipSync(JSON.stringify(page(allRealRecords()))), { source: 'uplink', logger: kb.log.logger });
    expect(counts).toMatchObject({ inserted: 78 });
  });
});

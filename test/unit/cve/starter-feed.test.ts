import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStarterFeed, starterFeedFile } from '../../../src/cve/starter-feed.js';
import { allRealRecords, knowledgeBase, realRecord, type TestKnowledgeBase } from './fixtures.js';

const opened: TestKnowledgeBase[] = [];
afterEach(() => {
  for (const kb of opened.splice(0)) kb.dispose();
});

describe('the starter feed', () => {
  it('ships the 78 real records unchanged, as one NVD API page', () => {
    const page = JSON.parse(gunzipSync(readFileSync(starterFeedFile)).toString('utf8')) as {
      totalResults: number;
      format: string;
      version: string;
      vulnerabilities: { cve: unknown }[];
    };
    expect(page).toMatchObject({ totalResults: 78, format: 'NVD_CVE', version: '2.0' });
    expect(page.vulnerabilities.map((item) => item.cve)).toEqual(allRealRecords());
  });

  it('goes into an empty database, so a new site finds real CVEs before its first update', () => {
    const kb = knowledgeBase();
    opened.push(kb);
    expect(ensureStarterFeed(kb.store, kb.log.logger)).toMatchObject({ inserted: 78 });
    expect(kb.matcher.matchService({ product: 'OpenSSH', version: '9.2p1' }).map((finding) => finding.cve_id)).toContain('CVE-2024-6387');
    // Only once: a second call, or a database that already has data, is left alone.
    expect(ensureStarterFeed(kb.store, kb.log.logger)).toBeUndefined();
  });

  it('is not imported over data from a feed or an update', () => {
    const kb = knowledgeBase([realRecord('CVE-2024-6387')]);
    opened.push(kb);
    expect(ensureStarterFeed(kb.store, kb.log.logger)).toBeUndefined();
    expect(kb.store.counts().cves).toBe(1);
  });

  it('warns and carries on when the file is not installed', () => {
    const kb = knowledgeBase();
    opened.push(kb);
    expect(ensureStarterFeed(kb.store, kb.log.logger, '/nonexistent/starter-feed.json.gz')).toBeUndefined();
    expect(kb.log.lines().find((line) => line.msg === 'starter CVE feed not installed; run cve-agent feed update or feed import')).toBeDefined();
  });
});

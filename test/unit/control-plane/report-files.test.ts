/** report.csv's cells and report.pdf's streaming, on reports built here (the integration tests cover the routes). */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScanReportBody } from '../../../src/control-plane/api/report-data.js';
import { reportCsv } from '../../../src/control-plane/api/reports/csv.js';
import { createReportPdf, pdfSafe, writeReportPdf } from '../../../src/control-plane/api/reports/pdf.js';
import { tempDir } from '../../helpers/temp.js';

const SITE = '0193a3b4-0000-7000-8000-000000000001';
const SCAN = '0193a3b4-0000-7000-8000-0000000000aa';

/** A finished scan's report with `n` CVE instances on `n` hosts. */
function reportOf(n: number, hostname = (i: number) => `host-${i}`): ScanReportBody {
  const hosts = Array.from({ length: n }, (_, i) => ({
    id: `0193a3b4-0000-7000-8000-${String(i).padStart(12, '0')}`,
    site_id: SITE,
    ip_address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    mac_address: `4C:5E:0C:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`,
    hostname: hostname(i),
    manufacturer: 'Routerboard.com',
    os: null,
    open_ports: [{ port: 8291, protocol: 'tcp', service: 'winbox', product: 'MikroTik RouterOS', version: '6.40.5', cpe: null }],
    cve_count: 1,
  }));
  const cves = hosts.map((host, i) => ({
    id: host.id,
    cve_id: `CVE-2018-${String(10000 + i)}`,
    description: 'A flaw.',
    published_at: null,
    created_at: '2026-12-05T10:00:00.000Z',
    vector: null,
    score: 9.1,
    severity: 'CRITICAL' as const,
    scan_id: SCAN,
    compliance_tags: [],
    host: { id: host.id, hostname: host.hostname, mac_address: host.mac_address, manufacturer: host.manufacturer, ip_address: host.ip_address },
    status: 'open' as const,
    other_occurrences: [],
    port: 8291,
    service: 'winbox',
    cpe: 'cpe:2.3:o:mikrotik:routeros:6.40.5:*:*:*:*:*:*:*',
    confidence: 'high' as const,
    evidence: 'banner',
    why: ['CVSS 9.1', 'a why, with a comma and "quotes"'],
    priority_rank: i + 1,
  }));
  const scan = {
    id: SCAN,
    scan_schedule_id: null,
    scan_id: 'ABC-DEF-GHJ',
    targets: 1,
    started_at: '2026-12-05T10:00:00.000Z',
    finished_at: '2026-12-05T10:05:00.000Z',
    runtime: '5 minutes',
    average_score: 9.1,
    highest_score: 9.1,
    cve_count: n,
    unique_cves: n,
    cve_repeat_ratio: 1,
    open_ports: n,
    unique_ports: 1,
    hosts_scanned: n,
    hosts_with_cves: n,
    sites_with_cves: 1,
    percentage_done: 100,
    percentage_failed: 0,
    running: false,
    json_url: '',
    pdf_url: null,
    status: 'completed' as const,
    progress: 100,
    error: null,
    origin: 'schedule' as const,
    trigger: null,
    events: [],
  };
  const sites = [
    {
      site_id: SITE,
      status: 'completed',
      subnets: ['10.0.0.0/8'],
      target_ips: null,
      error: null,
      started_at: null,
      finished_at: null,
      router: null,
      coverage: null,
    },
  ];
  return { scan, sites, hosts, cves, warnings: cves, patched: [], min_cvss: 4, warning_threshold: 7 };
}

describe('report.csv', () => {
  it('quotes commas and quotes, and defuses cells a spreadsheet would run as a formula', () => {
    const lines = [...reportCsv(reportOf(2, (i) => (i === 0 ? '=HYPERLINK("http://x")' : 'nas,backup')))];
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(lines[2]).toContain('"nas,backup"');
    expect(lines[1]).toContain('"CVSS 9.1; a why, with a comma and ""quotes"""');
    expect(lines.every((line) => line.endsWith('\r\n'))).toBe(true);
  });
});

describe('report.pdf', () => {
  it('waits for a slow reader: what the document holds unread stays near its limit, however long the report', async () => {
    const limit = 16 * 1024;
    const doc = createReportPdf('big');
    const writing = writeReportPdf(doc, { report: reportOf(3000), schedule: undefined, sites: new Map(), marks: [], generatedAt: new Date() }, limit);
    let total = 0;
    let most = 0;
    // Each read takes all the document holds unread: a chunk's size is how much had piled up.
    for await (const chunk of doc) {
      total += (chunk as Buffer).length;
      most = Math.max(most, (chunk as Buffer).length);
      await sleep(1);
    }
    await writing;
    // Far longer than what may wait unread: the bound is what pacing gives, not the document's size.
    expect(total).toBeGreaterThan(limit * 8);
    expect(most).toBeLessThan(limit + 32 * 1024);
  });

  it('keeps text extractable whatever the names: letters outside the standard fonts lose their accent or become ?', async () => {
    expect(pdfSafe('Rīga birojs — café “x” €')).toBe('Riga birojs — café “x” €');
    expect(pdfSafe('Рига 🙂')).toBe('???? ?');
    const report = reportOf(2, (i) => (i === 0 ? 'Рига-nas' : 'Liepāja-gw'));
    const doc = createReportPdf('names');
    const site = { id: SITE, name: 'Rīga birojs', feed_version: 7, feed_age_days: 3 };
    const writing = writeReportPdf(doc, { report, schedule: undefined, sites: new Map([[SITE, site]]), marks: [], generatedAt: new Date() });
    const chunks: Buffer[] = [];
    for await (const chunk of doc) chunks.push(chunk as Buffer);
    await writing;
    const file = path.join(tempDir('pdf-'), 'names.pdf');
    writeFileSync(file, Buffer.concat(chunks));
    const text = (await promisify(execFile)('pdftotext', [file, '-'])).stdout;
    for (const expected of ['Riga birojs: feed version 7, data 3 day(s) old', '????-nas', 'Liepaja-gw', 'CVE-2018-10000', 'CVE-2018-10001', 'Why: CVSS 9.1'])
      expect(text).toContain(expected);
  });
});

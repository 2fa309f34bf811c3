/** report.csv and report.pdf of a finished scan: the report's fix-first order, read back with pdftotext (poppler-utils). */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../../src/control-plane/api/reports/csv.js';
import { tempDir } from '../../helpers/temp.js';
import { loadContract, type Contract } from './harness.js';
import { finished, host } from '../../simulators/control-plane/reports.js';
import { findingOf, runScan, startConsoleSite, startScan, type ConsoleSite, type Device } from './console-site.js';

const run = promisify(execFile);
let site: ConsoleSite;
let contract: Contract;
const GW: Device = { ip: '192.168.88.1', mac: '4C:5E:0C:AA:BB:01', ports: [22, 8291] };
const NAS: Device = { ip: '192.168.88.20', mac: '00:11:32:AA:BB:20', ports: [22] };

beforeEach(async () => {
  site = await startConsoleSite();
  contract = await loadContract(site.h.url);
});
afterEach(async () => {
  await site.stop();
});

async function download(path: string, token?: string | null) {
  const bearer = token === null ? undefined : (token ?? (await site.h.jwt()));
  const response = await fetch(`${site.h.url}${path}`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (!response.ok) contract.check('GET', path, { status: response.status, body: JSON.parse(bytes.toString('utf8')) });
  return { status: response.status, headers: response.headers, bytes };
}

/** The PDF's text as pdftotext extracts it (in reading order, -layout off). */
async function pdfText(bytes: Buffer): Promise<string> {
  const file = path.join(tempDir('pdf-'), 'report.pdf');
  writeFileSync(file, bytes);
  return (await run('pdftotext', [file, '-'])).stdout;
}

async function scanWithFindings(): Promise<string> {
  const scanId = await runScan(
    site,
    [GW, NAS],
    [
      { device: GW, cve: 'CVE-2018-14847', score: 9.1 },
      { device: GW, cve: 'CVE-2019-3976', score: 6.5, kev: true },
      { device: NAS, cve: 'CVE-2023-30799', score: 9.1, epss: 0.94 },
      { device: NAS, cve: 'CVE-2019-3900', score: 5.3 },
    ],
    { identity: 'gw-riga', routeros_version: '6.40.5 (stable)', board: 'RB4011iGS+' },
  );
  const marked = await site.h.request('POST', '/scans/cve/mac-address/cve/status', {
    body: { mac_address: NAS.mac, cve_id: 'CVE-2019-3900', status: 'accepted', justification: 'The NAS web UI is reachable from the backup VLAN only.' },
  });
  expect(marked.status).toBe(201);
  return scanId;
}

const reportCves = async (scanId: string) =>
  ((await site.h.request('GET', `/scans/cve/${scanId}/report.json`)).body as { cves: { cve_id: string; host: { mac_address: string } }[] }).cves;

describe('GET /scans/cve/{scan_id}/report.csv', () => {
  it('has the header and one row per CVE in the fix-first order of report.json', async () => {
    const scanId = await scanWithFindings();
    const csv = await download(`/scans/cve/${scanId}/report.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="scan-[A-Z-]+\.csv"$/);
    const lines = csv.bytes.toString('utf8').split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const rows = lines.slice(1, -1).map((line) => line.split(','));
    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const cves = await reportCves(scanId);
    expect(rows.map((row) => `${row[column('cve_id')]} ${row[column('mac_address')]}`)).toEqual(cves.map((c) => `${c.cve_id} ${c.host.mac_address}`));
    expect(rows.map((row) => row[column('priority_rank')])).toEqual(['1', '2', '3', '4']);
    // KEV first, then EPSS, then CVSS; the accepted one last (kev empty: the agent sent no KEV look-up).
    expect(rows.map((row) => [row[column('cve_id')], row[column('kev')], row[column('status')]])).toEqual([
      ['CVE-2019-3976', 'yes', 'open'],
      ['CVE-2023-30799', '', 'open'],
      ['CVE-2018-14847', '', 'open'],
      ['CVE-2019-3900', '', 'accepted'],
    ]);
    expect(rows[0]?.[column('site_id')]).toBe(site.siteId);
  });
});

describe('GET /scans/cve/{scan_id}/report.pdf', () => {
  it("holds the summary, scope, hosts by MAC, the report's CVE ids fix-first and the marks", async () => {
    const scanId = await scanWithFindings();
    const pdf = await download(`/scans/cve/${scanId}/report.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(pdf.bytes);
    const cves = await reportCves(scanId);
    for (const cve of cves) expect(text).toContain(cve.cve_id);
    for (const mac of [GW.mac, NAS.mac]) expect(text).toContain(mac);
    for (const expected of [
      'Status: completed',
      'Riga weekly',
      'zone Europe/Riga',
      'riga-office: subnets 192.168.88.0/24',
      'Router gw-riga',
      'OpenSSH',
      'Routerboard.com',
    ])
      expect(text).toContain(expected);
    expect(text).toContain('The NAS web UI is reachable from the backup VLAN only.');
    expect(text).toContain('riga-office: no feed version reported');
    // The CVE list follows the report's order.
    const section = text.slice(text.indexOf('CVEs, fix first'), text.indexOf('Marks (accepted or mitigated)'));
    const positions = cves.map((c) => section.indexOf(c.cve_id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('is a valid PDF that says so for a scan with no findings; CSV is its header alone', async () => {
    const scanId = await runScan(site, [GW], []);
    const pdf = await download(`/scans/cve/${scanId}/report.pdf`);
    expect(pdf.status).toBe(200);
    const text = await pdfText(pdf.bytes);
    expect(text).toContain('No CVEs were found in this scan.');
    expect(text).toContain(GW.mac);
    expect((await download(`/scans/cve/${scanId}/report.csv`)).bytes.toString('utf8')).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('report downloads: refusals', () => {
  it("answer 409 while the scan runs, 404 for another organization's scan, 401 without a token; a viewer may download", async () => {
    const { scanId, runId } = await startScan(site);
    for (const format of ['csv', 'pdf']) {
      const running = await download(`/scans/cve/${scanId}/report.${format}`);
      expect(running.status).toBe(409);
      expect(JSON.parse(running.bytes.toString('utf8'))).toMatchObject({ code: 'scan_not_complete' });
    }
    const summary = (await site.h.request('GET', `/scans/cve/${scanId}`)).body as { pdf_url: string | null };
    expect(summary.pdf_url).toBeNull();

    // The agent finishes the run: the same scan's reports are now there.
    site.agent.report(host(runId, GW.ip, GW.mac));
    site.agent.report(findingOf(runId, { device: GW, cve: 'CVE-2018-14847', score: 9.1 }));
    site.agent.report(finished(runId, 1));
    await site.agent.drained();
    await expect.poll(async () => (await site.h.request('GET', `/scans/cve/${scanId}`)).body, { timeout: 5000 }).toMatchObject({ status: 'completed' });
    const done = scanId;
    const viewer = await site.h.jwt({ scope: 'cve:view' });
    const other = await site.h.jwt({ org: 'org-b' });
    for (const format of ['csv', 'pdf']) {
      expect((await download(`/scans/cve/${done}/report.${format}`, viewer)).status).toBe(200);
      const foreign = await download(`/scans/cve/${done}/report.${format}`, other);
      expect(foreign.status).toBe(404);
      expect(JSON.parse(foreign.bytes.toString('utf8'))).toMatchObject({ code: 'scan_not_found' });
      expect((await download(`/scans/cve/${done}/report.${format}`, null)).status).toBe(401);
    }
  });
});

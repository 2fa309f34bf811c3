/**
 * Item 11: last_run_at is set whenever a scan of the schedule is initiated, and every list takes
 * `limit` and a cursor, returns the next cursor, and has a bounded default page.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT } from '../../../src/control-plane/api/paging.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
let site: { id: string; token: string };
const MAC = '4C:5E:0C:AA:BB:01';

beforeEach(async () => {
  h = await startHarness();
  contract = await loadContract(h.url);
  site = await h.addSite('org-a');
});
afterEach(async () => h.stop());

async function call(method: string, path: string, options: Parameters<Harness['request']>[2] = {}) {
  const response = await h.request(method, path, options);
  contract.check(method, path.split('?')[0] as string, response);
  return response;
}

const scheduleBody = (description = 'office') => ({
  description,
  day_of_week: 1,
  time_of_day: '02:00',
  every_n_weeks: 2,
  timezone: 'America/New_York',
  min_cvss: 4,
  warning_threshold: 7,
  notification_group: 'security-alerts',
  sites: [{ id: site.id, subnet: '192.168.1.0/24' }],
});

async function createSchedule(description?: string): Promise<string> {
  return ((await call('POST', '/scans/cve/scheduled', { body: scheduleBody(description) })).body as { id: string }).id;
}

async function lastRunAt(id: string): Promise<string | null> {
  return ((await call('GET', `/scans/cve/scheduled/${id}`)).body as { last_run_at: string | null }).last_run_at;
}

/** Follows X-Next-Cursor through every page of a bare-array list. */
async function allPages(path: string, limit: number): Promise<{ pages: number; items: { id: string }[] }> {
  const items: { id: string }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const response = await call('GET', `${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(response.status).toBe(200);
    const page = response.body as { id: string }[];
    expect(page.length).toBeLessThanOrEqual(limit);
    items.push(...page);
    cursor = response.headers.get('x-next-cursor');
    if (cursor !== null) expect(response.headers.get('link')).toMatch(/^<\/scans\/cve[^>]*cursor=[^>]*>; rel="next"$/);
    pages += 1;
  } while (cursor !== null);
  return { pages, items };
}

describe('last_run_at (item 11)', () => {
  it('is set when the schedule is invoked, and when a single IP or several IPs are scanned with it', async () => {
    for (const [path, bodyOf] of [
      ['invoke', null],
      ['/scans/cve/scheduled/single-ip', (id: string) => ({ schedule_id: id, site_id: site.id, ip_address: '192.168.1.5' })],
      ['/scans/cve/scan/multiple-ips', (id: string) => ({ schedule_id: id, site_id: site.id, ips: ['192.168.1.5', '192.168.1.6'] })],
    ] as const) {
      const id = await createSchedule(String(path));
      expect(await lastRunAt(id)).toBeNull();
      const before = Date.now();
      const started = bodyOf === null ? await call('POST', `/scans/cve/scheduled/${id}/invoke`) : await call('POST', path, { body: bodyOf(id) });
      expect(started.status, String(path)).toBe(202);
      const at = await lastRunAt(id);
      expect(at, String(path)).not.toBeNull();
      // In the schedule's zone, with its offset, and the time the scan was initiated.
      expect(at).toMatch(/-0[45]:00$/);
      expect(Date.parse(at as string)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(at as string)).toBeLessThanOrEqual(Date.now() + 1000);
    }
  });
});

describe('paged lists (item 11)', () => {
  it('pages the schedules with limit and X-Next-Cursor, newest first, and bounds the default page', async () => {
    const at = Date.now();
    for (let i = 0; i < DEFAULT_LIMIT + 5; i++) {
      const created = new Date(at - i * 1000).toISOString();
      await h.store.schedules.insert({
        ...scheduleBody(`s${i}`),
        ignore_offline_sites: false,
        id: crypto.randomUUID(),
        org_id: 'org-a',
        anchor_at: created,
        next_scan_at: new Date(at + 86_400_000).toISOString(),
        last_run_at: null,
        created_at: created,
        updated_at: created,
      });
    }
    const first = await call('GET', '/scans/cve/scheduled');
    expect((first.body as unknown[]).length).toBe(DEFAULT_LIMIT);
    expect(first.headers.get('x-next-cursor')).not.toBeNull();
    const { pages, items } = await allPages('/scans/cve/scheduled', 30);
    expect(pages).toBe(4);
    expect(items.map((s) => (s as unknown as { description: string }).description)).toEqual(Array.from({ length: DEFAULT_LIMIT + 5 }, (_, i) => `s${i}`));
    const last = await call('GET', '/scans/cve/scheduled?limit=1000');
    expect(last.headers.get('x-next-cursor')).toBeNull();
  });

  it("pages a schedule's scans", async () => {
    const id = await createSchedule();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = await call('POST', '/scans/cve/scheduled/single-ip', { body: { schedule_id: id, site_id: site.id, ip_address: `192.168.1.${i + 1}` } });
      ids.unshift((started.body as { scan_id: string }).scan_id);
    }
    const { pages, items } = await allPages(`/scans/cve?scan_schedule_id=${id}`, 2);
    expect(pages).toBe(3);
    expect(items.map((scan) => scan.id)).toEqual(ids);
  });

  it('pages the status marks and the CVEs by MAC with next_cursor', async () => {
    for (let i = 0; i < 3; i++) {
      const marked = await call('POST', '/scans/cve/mac-address/cve/status', {
        body: { mac_address: MAC, cve_id: `CVE-2018-1484${i}`, status: 'accepted', justification: 'compensating control in place' },
      });
      expect(marked.status).toBe(201);
    }
    const one = await call('GET', '/scans/cve/mac-address/cve/status?limit=2');
    const page1 = one.body as { data: { cve_id: string }[]; next_cursor: string | null };
    expect(page1.data.map((m) => m.cve_id)).toEqual(['CVE-2018-14842', 'CVE-2018-14841']);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = (await call('GET', `/scans/cve/mac-address/cve/status?limit=2&cursor=${page1.next_cursor}`)).body as typeof page1;
    expect(page2.data.map((m) => m.cve_id)).toEqual(['CVE-2018-14840']);
    expect(page2.next_cursor).toBeNull();

    const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
    await agent.connect();
    try {
      const runId = newRunId();
      agent.report(scanStatus({ runId }));
      agent.report(host(runId, '192.168.88.1', MAC));
      for (const cve of ['CVE-2018-14847', 'CVE-2019-3976', 'CVE-2019-3977']) agent.report(finding(runId, '192.168.88.1', MAC, cve, 8));
      agent.report(finished(runId, 3));
      await agent.drained();
    } finally {
      agent.drop();
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await call('POST', `/scans/cve/mac-address/cves?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, {
        body: { mac_addresses: [MAC] },
      });
      const body = response.body as { cves: { id: string }[]; next_cursor: string | null; total_cve_instances: number };
      expect(body.total_cve_instances).toBe(3);
      seen.push(...body.cves.map((c) => c.id));
      cursor = body.next_cursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  it('refuses a bad limit or cursor with the error object', async () => {
    expect((await call('GET', '/scans/cve/scheduled?limit=0')).status).toBe(422);
    expect((await call('GET', '/scans/cve/scheduled?limit=1001')).status).toBe(422);
    expect((await call('GET', '/scans/cve?limit=abc')).status).toBe(400);
    const bad = await call('GET', '/scans/cve/mac-address/cve/status?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'parameter_invalid', message: expect.stringMatching(/^cursor/) });
  });
});

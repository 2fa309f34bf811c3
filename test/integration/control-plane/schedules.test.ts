import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
let site: { id: string; token: string };

const body = (overrides: Record<string, unknown> = {}) => ({
  description: 'Weekly Scan for Main Office',
  day_of_week: 1,
  time_of_day: '02:00',
  every_n_weeks: 2,
  timezone: 'America/New_York',
  min_cvss: 4,
  warning_threshold: 7,
  ignore_offline_sites: false,
  notification_group: 'security-alerts',
  sites: [{ id: site.id, subnet: '192.168.1.0/24' }],
  ...overrides,
});

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

describe('schedules (endpoints 1-5)', () => {
  it('creates a schedule (201) whose next_scan_at is a Monday 02:00 in New York with its offset', async () => {
    const created = await call('POST', '/scans/cve/scheduled', { body: body() });
    expect(created.status).toBe(201);
    const schedule = created.body as Record<string, unknown>;
    expect(schedule).toMatchObject({
      description: 'Weekly Scan for Main Office',
      running: false,
      status: 'ready',
      last_run_at: null,
      sites: [{ id: site.id, subnet: '192.168.1.0/24' }],
    });
    expect(String(schedule.next_scan_at)).toMatch(/T02:00:00-0[45]:00$/);
    expect(new Date(String(schedule.next_scan_at)).getTime()).toBeGreaterThan(Date.now());
    expect(String(schedule.created_at)).toMatch(/Z$/);
  });

  it('lists, gets, replaces and deletes', async () => {
    const a = (await call('POST', '/scans/cve/scheduled', { body: body({ description: 'first' }) })).body as { id: string };
    const b = (await call('POST', '/scans/cve/scheduled', { body: body({ description: 'second' }) })).body as { id: string };
    const list = await call('GET', '/scans/cve/scheduled');
    expect((list.body as { id: string }[]).map((s) => s.id)).toEqual([b.id, a.id]);
    expect((await call('GET', `/scans/cve/scheduled/${a.id}`)).body).toMatchObject({ id: a.id, description: 'first' });
    const replaced = await call('PUT', `/scans/cve/scheduled/${a.id}`, {
      body: body({ description: 'renamed', time_of_day: '7:30', timezone: 'Europe/London' }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: a.id, description: 'renamed', time_of_day: '07:30', timezone: 'Europe/London' });
    expect(String((replaced.body as Record<string, unknown>).next_scan_at)).toMatch(/T07:30:00\+0[01]:00$/);
    const deleted = await call('DELETE', `/scans/cve/scheduled/${a.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await call('GET', `/scans/cve/scheduled/${a.id}`)).status).toBe(404);
    expect(((await call('GET', '/scans/cve/scheduled')).body as unknown[]).length).toBe(1);
  });

  it('answers 400 for malformed bodies and 422 for broken rules, with the error object', async () => {
    const badJson = await call('POST', '/scans/cve/scheduled', { raw: '{"description": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toEqual({
      type: 'invalid_request_error',
      code: 'invalid_json',
      message: expect.any(String),
      doc_url: `${h.url}/docs/errors/invalid_json`,
    });
    const { description: _d, ...missing } = body();
    const noDescription = await call('POST', '/scans/cve/scheduled', { body: missing });
    expect(noDescription.status).toBe(400);
    expect(noDescription.body).toMatchObject({ code: 'parameter_missing', message: expect.stringContaining('description') });
    const wrongType = await call('POST', '/scans/cve/scheduled', { body: body({ day_of_week: 'monday' }) });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid' });
    const rule = await call('POST', '/scans/cve/scheduled', { body: body({ min_cvss: 7, warning_threshold: 7 }) });
    expect(rule.status).toBe(422);
    expect(rule.body).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid', message: expect.stringContaining('warning_threshold') });
    for (const broken of [
      { every_n_weeks: 1 },
      { time_of_day: '24:00' },
      { timezone: 'Mars/Olympus' },
      { sites: [{ id: site.id, subnet: '10.0.0.0/16' }] },
      { sites: [{ id: site.id, subnet: '10.0.0.1/24' }] },
      { sites: [] },
    ]) {
      expect((await call('POST', '/scans/cve/scheduled', { body: body(broken) })).status, JSON.stringify(broken)).toBe(422);
    }
    const text = await call('POST', '/scans/cve/scheduled', { raw: 'hello', contentType: 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ code: 'content_type_unsupported' });
  });

  it('refuses a site of another organization and an unconfigured notification group (422)', async () => {
    const foreign = await h.addSite('org-b');
    const other = await call('POST', '/scans/cve/scheduled', { body: body({ sites: [{ id: foreign.id, subnet: '10.1.0.0/24' }] }) });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'site_unknown' });
    const group = await call('POST', '/scans/cve/scheduled', { body: body({ notification_group: 'nobody' }) });
    expect(group.status).toBe(422);
    expect(group.body).toMatchObject({ code: 'notification_group_unknown' });
  });

  it('answers 404 for a schedule of another organization and for ids that are not UUIDs', async () => {
    const created = (await call('POST', '/scans/cve/scheduled', { body: body() })).body as { id: string };
    const otherOrg = await h.jwt({ org: 'org-b' });
    for (const [method, b] of [
      ['GET', undefined],
      ['PUT', body()],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(method, `/scans/cve/scheduled/${created.id}`, { token: otherOrg, body: b });
      expect(response.status, method).toBe(404);
      expect(response.body).toMatchObject({ type: 'not_found_error', code: 'schedule_not_found' });
    }
    expect((await call('GET', '/scans/cve/scheduled/not-a-uuid')).status).toBe(404);
    expect(((await call('GET', '/scans/cve/scheduled', { token: otherOrg })).body as unknown[]).length).toBe(0);
  });
});

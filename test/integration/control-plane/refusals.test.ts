/**
 * A refused request changes nothing: a body past a bound is refused by the REST rules (422)
 * before any write, and a seeded fuzz over every route checks that no request gets a 5xx and
 * that every refused one (4xx) leaves each table of the store as it was.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEDULE_LIMITS } from '../../../src/shared/schedule/rules.js';
import { seedFromEnv, seeded, type Rng } from '../../helpers/seeded.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';
import { storeSnapshots, type StoreSnapshots } from './store-snapshot.js';

let h: Harness;
let contract: Contract;
let snapshots: StoreSnapshots;
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
  snapshots = storeSnapshots(h.dir);
});
afterEach(async () => {
  snapshots.close();
  await h.stop();
});

describe('a request past a bound changes nothing (item 8)', () => {
  it('refuses a description over 1,000 characters on create with 422, storing nothing', async () => {
    const before = await snapshots.take();
    const response = await h.request('POST', '/scans/cve/scheduled', { body: body({ description: 'x'.repeat(SCHEDULE_LIMITS.description + 1) }) });
    contract.check('POST', '/scans/cve/scheduled', response);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'parameter_invalid', message: expect.stringMatching(/^description/) });
    expect(await snapshots.take()).toEqual(before);
    expect((await h.request('POST', '/scans/cve/scheduled', { body: body({ description: 'x'.repeat(SCHEDULE_LIMITS.description) }) })).status).toBe(201);
  });

  it('refuses such a replace with 422 and leaves the schedule and its commands as they were', async () => {
    const created = (await h.request('POST', '/scans/cve/scheduled', { body: body() })).body as { id: string };
    const before = await snapshots.take();
    const response = await h.request('PUT', `/scans/cve/scheduled/${created.id}`, { body: body({ description: 'y'.repeat(5000) }) });
    expect(response.status).toBe(422);
    expect(await snapshots.take()).toEqual(before);
    expect((await h.request('GET', `/scans/cve/scheduled/${created.id}`)).body).toMatchObject({ description: 'Weekly Scan for Main Office' });
  });
});

// ---- the fuzz ----

const FUZZ_SEED = seedFromEnv(20_260_105);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 400);

interface FuzzRequest {
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
}

function anyValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 1 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.pick([0, -1, 1, 2, 7, 10, 10.5, 52, 53, 1e308, -1e308, 0.1, 2 ** 53 + 1]);
    case 3:
      return rng.string(rng.pick([5, 40, 300]));
    case 4:
      return 'x'.repeat(rng.pick([199, 200, 201, 999, 1000, 1001, 4000]));
    case 5:
      return rng.pick(['', ' ', 'UTC', 'Not/AZone', '02:00', '25:00', '192.168.1.5', '192.168.1.0/24', crypto.randomUUID(), 'CVE-2018-14847']);
    case 6:
      return Array.from({ length: rng.int(0, 3) }, () => anyValue(rng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(0, 3) }, () => [rng.pick(['id', 'subnet', 'x', '__proto__', 'constructor']), anyValue(rng, depth + 1)]),
      );
  }
}

/** A valid object, then a few fields replaced, dropped or added. */
function mutate(rng: Rng, valid: Record<string, unknown>): Record<string, unknown> {
  const value: Record<string, unknown> = { ...valid };
  const keys = Object.keys(valid);
  for (let n = rng.int(0, 3); n > 0; n--) {
    const op = rng.int(0, 9);
    const key = rng.pick(keys);
    if (op < 6) value[key] = anyValue(rng);
    else if (op < 8) delete value[key];
    else value[rng.pick(['extra', 'org_id', 'id', 'last_run_at'])] = anyValue(rng);
  }
  return value;
}

function fuzzSchedule(rng: Rng): Record<string, unknown> {
  // Some valid bodies, so that later requests meet schedules and scans that exist.
  if (rng.bool(0.3)) return body({ description: rng.string(60), ignore_offline_sites: rng.bool() });
  const valid = body({
    description: rng.pick(['', 'ok', 'x'.repeat(SCHEDULE_LIMITS.description), 'x'.repeat(SCHEDULE_LIMITS.description + 1), rng.string(50)]),
    notification_group: rng.pick(['security-alerts', 'security-alerts', 'x'.repeat(SCHEDULE_LIMITS.notification_group + 1), 'unknown-group']),
    sites: rng.bool(0.1)
      ? Array.from({ length: SCHEDULE_LIMITS.sites + 1 }, (_, i) => ({ id: site.id, subnet: `10.${i >> 8}.${i & 255}.0/24` }))
      : [{ id: rng.bool(0.9) ? site.id : crypto.randomUUID(), subnet: rng.pick(['192.168.1.0/24', '192.168.1.0/21', '192.168.1.1/24']) }],
  });
  return mutate(rng, valid);
}

function fuzzId(rng: Rng, known: string[]): string {
  return rng.pick([
    ...known,
    ...known,
    crypto.randomUUID(),
    'not-a-uuid',
    'x'.repeat(rng.pick([99, 101, 500, 3000])),
    '%E0%A4%A',
    '%00',
    'single-ip',
    encodeURIComponent(rng.string(20)),
  ]);
}

function fuzzRequest(rng: Rng, scheduleIds: string[], scanIds: string[]): FuzzRequest {
  const scheduleId = () => fuzzId(rng, scheduleIds);
  const scanId = () => fuzzId(rng, scanIds);
  const ip = () => rng.pick(['192.168.1.5', '192.168.2.5', '10.0.0.1', '999.1.1.1', '']);
  const query = () =>
    rng.pick([
      '',
      `?limit=${rng.pick(['1', '0', '-1', '1000000', 'abc', '2.5'])}`,
      `?cursor=${rng.pick(['', 'garbage', encodeURIComponent(rng.string(30))])}`,
      `?scan_schedule_id=${scheduleId()}`,
      `?mac_address=${rng.pick(['4C:5E:0C:AA:BB:01', 'zz'])}&status=${rng.pick(['accepted', 'open'])}`,
    ]);
  const routes: (() => FuzzRequest)[] = [
    () => ({ method: 'GET', path: `/scans/cve/scheduled${query()}` }),
    () => ({ method: 'POST', path: '/scans/cve/scheduled', body: fuzzSchedule(rng) }),
    () => ({ method: 'POST', path: '/scans/cve/scheduled', raw: rng.pick(['{', '[]', '"x"', '{"description": 1}', 'null', rng.string(30)]) }),
    () => ({ method: 'GET', path: `/scans/cve/scheduled/${scheduleId()}` }),
    () => ({ method: 'PUT', path: `/scans/cve/scheduled/${scheduleId()}`, body: fuzzSchedule(rng) }),
    () => ({ method: 'DELETE', path: `/scans/cve/scheduled/${scheduleId()}` }),
    () => ({ method: 'POST', path: `/scans/cve/scheduled/${scheduleId()}/invoke` }),
    () => ({ method: 'DELETE', path: `/scans/cve/scheduled/${scheduleId()}/invoke` }),
    () => ({
      method: 'POST',
      path: '/scans/cve/scheduled/single-ip',
      body: mutate(rng, { schedule_id: rng.pick(scheduleIds.length > 0 ? scheduleIds : [crypto.randomUUID()]), site_id: site.id, ip_address: ip() }),
    }),
    () => ({
      method: 'POST',
      path: '/scans/cve/scan/multiple-ips',
      body: mutate(rng, {
        schedule_id: rng.pick(scheduleIds.length > 0 ? scheduleIds : [crypto.randomUUID()]),
        site_id: site.id,
        ips: rng.bool(0.1) ? Array.from({ length: 1025 }, (_, i) => `192.168.1.${i % 250}`) : [ip(), ip()],
      }),
    }),
    () => ({ method: 'GET', path: `/scans/cve${query()}` }),
    () => ({ method: 'GET', path: `/scans/cve/${scanId()}` }),
    () => ({ method: 'GET', path: `/scans/cve/${scheduleId()}/status${query()}` }),
    () => ({ method: 'GET', path: `/scans/cve/${scanId()}/report.json` }),
    () => ({ method: 'POST', path: '/scans/cve/mac-address/cves', body: mutate(rng, { mac_addresses: ['4C:5E:0C:AA:BB:01'] }) }),
    () => ({ method: 'GET', path: `/scans/cve/mitigation/${rng.pick(['CVE-2018-14847', 'cve-1-1', 'x'.repeat(300), '%ZZ'])}` }),
    () => ({ method: 'GET', path: `/scans/cve/mac-address/cve/status${query()}` }),
    () => ({
      method: 'POST',
      path: '/scans/cve/mac-address/cve/status',
      body: mutate(rng, { mac_address: '4C:5E:0C:AA:BB:01', cve_id: 'CVE-2018-14847', status: 'accepted', justification: 'a justification long enough' }),
    }),
    () => ({ method: rng.pick(['PATCH', 'PUT', 'DELETE']), path: rng.pick(['/scans/cve/scheduled', '/scans/cve', `/scans/cve/${scanId()}`]) }),
  ];
  return rng.pick(routes)();
}

describe(`fuzz: every route, no 5xx, a refused request changes nothing (FUZZ_SEED=${FUZZ_SEED})`, () => {
  it(`holds for ${ITERATIONS} seeded requests`, { timeout: 120_000 }, async () => {
    const rng = seeded(FUZZ_SEED);
    const scheduleIds: string[] = [];
    const scanIds: string[] = [];
    const token = await h.jwt();
    for (let i = 0; i < ITERATIONS; i++) {
      const request = fuzzRequest(rng, scheduleIds, scanIds);
      const before = await snapshots.take();
      const response = await h.request(request.method, request.path, { body: request.body, raw: request.raw, token });
      const where = `FUZZ_SEED=${FUZZ_SEED} request #${i}: ${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.body ?? request.raw ?? null).slice(0, 300)} -> ${response.status} ${response.text.slice(0, 300)}`;
      expect(response.status, where).toBeLessThan(500);
      if (response.status >= 400) {
        expect(response.body, where).toEqual({ type: expect.any(String), code: expect.any(String), message: expect.any(String), doc_url: expect.any(String) });
        expect(await snapshots.take(), where).toEqual(before);
      }
      const created = response.body as { id?: unknown; scan_id?: unknown } | undefined;
      if (response.status === 201 && request.path === '/scans/cve/scheduled' && typeof created?.id === 'string') scheduleIds.push(created.id);
      if (response.status === 202 && typeof created?.scan_id === 'string') scanIds.push(created.scan_id);
    }
    expect(scheduleIds.length, `FUZZ_SEED=${FUZZ_SEED}: some requests got through`).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { multipleIpsRequest } from '../../../src/control-plane/api/shapes.js';
import { parseBody, parseScheduleBody } from '../../../src/control-plane/api/validate.js';
import { ApiError } from '../../../src/control-plane/errors.js';
import { describeValue, formatIssues, toFieldErrors } from '../../../src/shared/zod-issues.js';

const SCHEDULE = '0407b8cc-7b4b-4f2a-9a51-5a3f2c1d0e9f';
const SITE = '6c1f4d2b-3e5a-4b7c-9d0e-1f2a3b4c5d6e';
const schedule = {
  description: 'Weekly',
  day_of_week: 1,
  time_of_day: '02:00',
  every_n_weeks: 2,
  timezone: 'UTC',
  min_cvss: 4,
  warning_threshold: 7,
  sites: [{ id: SITE, subnet: '192.168.1.0/24' }],
  notification_group: 'security-alerts',
};

describe('describeValue: one "got ..." for config lines and REST messages', () => {
  it.each<[unknown, string]>([
    ['abc', '"abc"'],
    ['x'.repeat(70), JSON.stringify(`${'x'.repeat(57)}...`)],
    [70000, '70000'],
    [1.5, '1.5'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'nothing'],
    [['a'], 'an array'],
    [{ a: 1 }, 'an object'],
  ])('%j -> %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe('formatIssues: the config line the README documents', () => {
  const schema = z.strictObject({
    router: z.strictObject({ port: z.int({ error: 'expected integer 1..65535' }).min(1, 'expected integer 1..65535').max(65535, 'expected integer 1..65535') }),
    subnets: z.array(z.string(), { error: 'expected a list of IPv4 CIDRs' }),
  });
  it.each<[unknown, string[]]>([
    [{ router: { port: 'abc' }, subnets: [] }, ['router.port: expected integer 1..65535, got "abc"']],
    [{ router: { port: 70000 }, subnets: [] }, ['router.port: expected integer 1..65535, got 70000']],
    [{ router: { port: 22 }, subnets: {} }, ['subnets: expected a list of IPv4 CIDRs, got an object']],
    [{ router: { port: 22, user: 'u' }, subnets: [] }, ['router.user: unknown key']],
    [{ router: { port: 22 } }, ['subnets: expected a list of IPv4 CIDRs, got nothing']],
  ])('%j', (input, lines) => {
    const parsed = schema.safeParse(input);
    expect(parsed.success ? [] : formatIssues(parsed.error.issues, input)).toEqual(lines);
  });
});

function restError(run: () => unknown): { status: number; code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('REST bodies: one FieldError shape and wording for schedule and other bodies', () => {
  it.each<[string, () => unknown, { status: number; code: string; message: string }]>([
    // Before: "ips: must be a array" (grammar, no "got").
    [
      'multiple-ips with ips as a string',
      () => parseBody(multipleIpsRequest, { schedule_id: SCHEDULE, site_id: SITE, ips: '1.2.3.4' }),
      { status: 400, code: 'parameter_invalid', message: 'ips: must be an array, got "1.2.3.4"' },
    ],
    // Before: "ips.0: must be an IPv4 address such as 192.168.1.55" (dotted path, no "got").
    [
      'multiple-ips with a bad address',
      () => parseBody(multipleIpsRequest, { schedule_id: SCHEDULE, site_id: SITE, ips: ['10.0.0.1', '999.1.1.1'] }),
      { status: 422, code: 'parameter_invalid', message: 'ips[1]: must be an IPv4 address such as 192.168.1.55, got "999.1.1.1"' },
    ],
    [
      'multiple-ips without ips',
      () => parseBody(multipleIpsRequest, { schedule_id: SCHEDULE, site_id: SITE }),
      { status: 400, code: 'parameter_missing', message: 'ips: is required' },
    ],
    [
      'multiple-ips with an unknown field',
      () => parseBody(multipleIpsRequest, { schedule_id: SCHEDULE, site_id: SITE, ips: ['10.0.0.1'], extra: 1 }),
      { status: 400, code: 'parameter_invalid', message: 'extra: is not a known field' },
    ],
    // Before: "sites: must be an array, got string \"x\"".
    [
      'a schedule with sites as a string',
      () => parseScheduleBody({ ...schedule, sites: 'x' }),
      { status: 400, code: 'parameter_invalid', message: 'sites: must be an array, got "x"' },
    ],
    // Before: "day_of_week: must be an integer, got number 1.5".
    [
      'a schedule with a fractional day',
      () => parseScheduleBody({ ...schedule, day_of_week: 1.5 }),
      { status: 400, code: 'parameter_invalid', message: 'day_of_week: must be an integer, got 1.5' },
    ],
    [
      'a schedule with a bad subnet',
      () => parseScheduleBody({ ...schedule, sites: [{ id: SITE, subnet: '10.0.0.1/24' }] }),
      { status: 422, code: 'parameter_invalid', message: 'sites[0].subnet: host bits set, did you mean 10.0.0.0/24?' },
    ],
  ])('%s', (_name, run, expected) => {
    expect(restError(run)).toEqual(expected);
  });

  it('fields are dotted, messages name the path as sites[0].subnet', () => {
    const schema = z.strictObject({ sites: z.array(z.strictObject({ subnet: z.string().min(9, 'too short') })) });
    const parsed = schema.safeParse({ sites: [{ subnet: '10/8' }] }, { reportInput: true });
    expect(parsed.success ? [] : toFieldErrors(parsed.error.issues)).toEqual([
      { field: 'sites.0.subnet', code: 'parameter_invalid', kind: 'rule', message: 'sites[0].subnet: too short, got "10/8"' },
    ]);
  });
});

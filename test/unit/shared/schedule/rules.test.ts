import { describe, it, expect } from 'vitest';
import { normalizeTimeOfDay, scanScheduleWriteSchema, validateScheduleWrite, type FieldError } from '../../../../src/shared/schedule/rules.js';

const SITE_A = '9c3c1392-7f36-4240-85f2-273573c0384a';
const SITE_B = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

const valid = () => ({
  description: 'Weekly Scan for Main Office',
  day_of_week: 1,
  time_of_day: '02:00',
  every_n_weeks: 2,
  timezone: 'America/New_York',
  min_cvss: 4,
  warning_threshold: 7,
  sites: [{ id: SITE_A, subnet: '192.168.1.0/24' }],
  notification_group: 'security-alerts',
});

function errorsOf(body: unknown): FieldError[] {
  const result = validateScheduleWrite(body);
  if (result.ok) throw new Error(`expected a rejection of ${JSON.stringify(body)}`);
  return result.errors;
}

describe('validateScheduleWrite: a valid body', () => {
  it('passes, with ignore_offline_sites defaulting to false', () => {
    const result = validateScheduleWrite(valid());
    expect(result).toEqual({ ok: true, value: { ...valid(), ignore_offline_sites: false } });
  });

  it('keeps an explicit ignore_offline_sites and allows an empty description', () => {
    const result = validateScheduleWrite({ ...valid(), ignore_offline_sites: true, description: '' });
    expect(result.ok && result.value.ignore_offline_sites).toBe(true);
  });

  it('normalizes a one-digit hour to HH:mm', () => {
    const result = validateScheduleWrite({ ...valid(), time_of_day: '7:05' });
    expect(result.ok && result.value.time_of_day).toBe('07:05');
  });

  it.each([
    ['boundaries of every range', { day_of_week: 6, every_n_weeks: 52, min_cvss: 0, warning_threshold: 10, time_of_day: '23:59' }],
    ['the other boundaries', { day_of_week: 0, every_n_weeks: 2, min_cvss: 9.9, warning_threshold: 10, time_of_day: '0:00' }],
    ['UTC', { timezone: 'UTC' }],
    ['a zone with a 45-minute offset', { timezone: 'Asia/Kathmandu' }],
    ['Europe/London', { timezone: 'Europe/London' }],
    ['a fixed-offset zone of the database', { timezone: 'Etc/GMT+5' }],
    ['a link kept for old names', { timezone: 'Asia/Calcutta' }],
    [
      'a /22 and a /32',
      {
        sites: [
          { id: SITE_A, subnet: '10.0.4.0/22' },
          { id: SITE_B, subnet: '10.0.9.7/32' },
        ],
      },
    ],
    [
      'one site with two different subnets',
      {
        sites: [
          { id: SITE_A, subnet: '10.0.0.0/24' },
          { id: SITE_A, subnet: '10.0.1.0/24' },
        ],
      },
    ],
    ['an upper-case UUID', { sites: [{ id: SITE_A.toUpperCase(), subnet: '10.0.0.0/24' }] }],
  ])('accepts %s', (_name, patch) => {
    expect(validateScheduleWrite({ ...valid(), ...patch }).ok).toBe(true);
  });

  it('is the same schema the control plane can reuse', () => {
    expect(scanScheduleWriteSchema.safeParse(valid()).success).toBe(true);
  });
});

describe('validateScheduleWrite: each broken rule gives exactly one error naming its field', () => {
  const site = (subnet: string, id = SITE_A) => ({ sites: [{ id, subnet }] });
  const cases: [string, Record<string, unknown>, string, RegExp?][] = [
    ['day_of_week above 6', { day_of_week: 7 }, 'day_of_week'],
    ['day_of_week below 0', { day_of_week: -1 }, 'day_of_week'],
    ['time_of_day hour 24', { time_of_day: '24:00' }, 'time_of_day'],
    ['time_of_day minute 60', { time_of_day: '12:60' }, 'time_of_day'],
    ['time_of_day with seconds', { time_of_day: '02:00:00' }, 'time_of_day'],
    ['time_of_day in 12-hour form', { time_of_day: '2:00 PM' }, 'time_of_day'],
    ['time_of_day with one-digit minutes', { time_of_day: '2:0' }, 'time_of_day'],
    ['every_n_weeks 1', { every_n_weeks: 1 }, 'every_n_weeks'],
    ['every_n_weeks 53', { every_n_weeks: 53 }, 'every_n_weeks'],
    ['timezone unknown', { timezone: 'Mars/Olympus_Mons' }, 'timezone', /not an IANA time zone/],
    ['timezone empty', { timezone: '' }, 'timezone'],
    ['timezone as an offset', { timezone: '+05:00' }, 'timezone', /^timezone: "\+05:00" is not an IANA time zone such as/],
    ['timezone as a negative offset', { timezone: '-03:30' }, 'timezone'],
    ['timezone as UTC+5', { timezone: 'UTC+5' }, 'timezone'],
    ['timezone as GMT+5 (the database has Etc/GMT+5)', { timezone: 'GMT+5' }, 'timezone'],
    ['timezone Mars/Olympus', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['timezone spelled in lower case', { timezone: 'europe/london' }, 'timezone', /it is spelled Europe\/London$/],
    ['min_cvss below 0', { min_cvss: -0.1 }, 'min_cvss'],
    ['warning_threshold above 10', { warning_threshold: 10.5 }, 'warning_threshold'],
    ['min_cvss equal to warning_threshold', { min_cvss: 7, warning_threshold: 7 }, 'warning_threshold', /greater than min_cvss \(7\)/],
    ['min_cvss above warning_threshold', { min_cvss: 8, warning_threshold: 3 }, 'warning_threshold'],
    ['no sites', { sites: [] }, 'sites', /at least one site/],
    ['a site id that is not a UUID', site('10.0.0.0/24', 'site-1'), 'sites.0.id'],
    ['host bits set', site('10.0.0.1/24'), 'sites.0.subnet', /^sites\[0\]\.subnet: host bits set, did you mean 10\.0\.0\.0\/24\?$/],
    ['host bits set in a /22', site('10.0.5.0/22'), 'sites.0.subnet', /did you mean 10\.0\.4\.0\/22\?/],
    ['a prefix wider than /22', site('10.0.0.0/21'), 'sites.0.subnet', /between \/22 and \/32/],
    ['a /8 with host bits too', site('10.1.2.3/8'), 'sites.0.subnet'],
    ['a prefix above 32', site('10.0.0.0/33'), 'sites.0.subnet'],
    ['no prefix', site('10.0.0.0'), 'sites.0.subnet'],
    ['an octet above 255', site('10.0.256.0/24'), 'sites.0.subnet'],
    ['a shorthand address', site('10.1/24'), 'sites.0.subnet'],
    ['a leading zero', site('010.0.0.0/24'), 'sites.0.subnet'],
    ['an IPv6 subnet', site('2001:db8::/64'), 'sites.0.subnet'],
    [
      'the same site and subnet twice',
      {
        sites: [
          { id: SITE_A, subnet: '10.0.0.0/24' },
          { id: SITE_B, subnet: '10.0.0.0/24' },
          { id: SITE_A, subnet: '10.0.0.0/24' },
        ],
      },
      'sites.2.subnet',
      /repeats sites\[0\]/,
    ],
    ['notification_group empty', { notification_group: '' }, 'notification_group'],
    ['notification_group blank', { notification_group: '   ' }, 'notification_group'],
  ];

  it.each(cases)('%s', (_name, patch, field, message) => {
    const errors = errorsOf({ ...valid(), ...patch });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field, code: 'parameter_invalid', kind: 'rule' });
    expect(errors[0]?.message.startsWith(`${field.replace(/\.(\d+)/g, '[$1]')}: `)).toBe(true);
    if (message) expect(errors[0]?.message).toMatch(message);
  });
});

describe('validateScheduleWrite: malformed bodies are kind "type"', () => {
  const without = (key: string) => Object.fromEntries(Object.entries(valid()).filter(([k]) => k !== key));

  it.each(['description', 'day_of_week', 'time_of_day', 'every_n_weeks', 'timezone', 'min_cvss', 'warning_threshold', 'sites', 'notification_group'])(
    'a missing %s is parameter_missing',
    (key) => {
      expect(errorsOf(without(key))).toEqual([{ field: key, code: 'parameter_missing', kind: 'type', message: `${key}: is required` }]);
    },
  );

  it.each<[string, Record<string, unknown>, string]>([
    ['day_of_week as a string', { day_of_week: '1' }, 'day_of_week'],
    ['day_of_week not an integer', { day_of_week: 1.5 }, 'day_of_week'],
    ['every_n_weeks not an integer', { every_n_weeks: 2.5 }, 'every_n_weeks'],
    ['min_cvss as a string', { min_cvss: '4' }, 'min_cvss'],
    ['time_of_day as a number', { time_of_day: 200 }, 'time_of_day'],
    ['ignore_offline_sites as a string', { ignore_offline_sites: 'yes' }, 'ignore_offline_sites'],
    ['sites as an object', { sites: { id: SITE_A } }, 'sites'],
    ['a site without subnet', { sites: [{ id: SITE_A }] }, 'sites.0.subnet'],
    ['notification_group null', { notification_group: null }, 'notification_group'],
  ])('%s', (_name, patch, field) => {
    const errors = errorsOf({ ...valid(), ...patch });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field, kind: 'type' });
  });

  it('rejects an unknown key, at the top and inside a site', () => {
    expect(errorsOf({ ...valid(), enabled: true })).toEqual([
      { field: 'enabled', code: 'parameter_invalid', kind: 'type', message: 'enabled: is not a known field' },
    ]);
    expect(errorsOf({ ...valid(), sites: [{ id: SITE_A, subnet: '10.0.0.0/24', name: 'x' }] })).toMatchObject([{ field: 'sites.0.name', kind: 'type' }]);
  });

  it.each([null, [], 'body', 42])('rejects a body that is not an object: %j', (body) => {
    expect(errorsOf(body)).toMatchObject([{ field: '', code: 'parameter_invalid', kind: 'type' }]);
  });
});

describe('validateScheduleWrite: several broken rules', () => {
  it('gives one error for each, in one pass', () => {
    const errors = errorsOf({
      ...valid(),
      day_of_week: 9,
      time_of_day: '25:00',
      timezone: 'Nowhere/City',
      min_cvss: 8,
      warning_threshold: 5,
      sites: [
        { id: SITE_A, subnet: '10.0.0.1/24' },
        { id: 'nope', subnet: '10.0.0.0/20' },
      ],
      notification_group: '',
    });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ['day_of_week', 'notification_group', 'sites.0.subnet', 'sites.1.id', 'sites.1.subnet', 'time_of_day', 'timezone', 'warning_threshold'].sort(),
    );
    expect(errors.every((e) => e.kind === 'rule')).toBe(true);
  });

  it('reports unknown keys beside broken rules, so a caller can tell 400 from 422', () => {
    const kinds = errorsOf({ ...valid(), extra: 1, every_n_weeks: 1 }).map((e) => `${e.field}:${e.kind}`);
    expect(kinds.sort()).toEqual(['every_n_weeks:rule', 'extra:type']);
  });
});

describe('normalizeTimeOfDay', () => {
  it.each([
    ['7:05', '07:05'],
    ['0:00', '00:00'],
    ['07:05', '07:05'],
    ['23:59', '23:59'],
  ])('%s -> %s', (input, output) => {
    expect(normalizeTimeOfDay(input)).toBe(output);
  });

  it.each(['24:00', '7:5', '', '07:05:00'])('throws on %j', (input) => {
    expect(() => normalizeTimeOfDay(input)).toThrow(RangeError);
  });
});

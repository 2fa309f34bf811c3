import { describe, it, expect } from 'vitest';
import { localSlotInstant, nextScanAt, previousScanAt, upcomingScans, type Recurrence } from '../../../../src/shared/schedule/next-run.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * The oracle: no luxon, only Intl's wall clock of UTC instants and a minute-by-minute scan, which is
 * the API's definition read literally (first instant whose local date and HH:mm are at or after the
 * requested ones: a skipped time lands on the first valid minute, a repeated one on its first pass).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(zone: string, ms: number): string {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

const wallAsUtc = (wall: string): number => Date.parse(`${wall.replace(' ', 'T')}:00Z`);
const offsetAt = (zone: string, ms: number): number => wallAsUtc(wallClock(zone, ms)) - Math.floor(ms / MINUTE) * MINUTE;
const ymd = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);

function oracleInstant(zone: string, date: string, time: string): number {
  const target = `${date} ${time.padStart(5, '0')}`;
  const wall = wallAsUtc(target);
  // Offsets move by at most 2 hours at a transition, so no instant earlier than this can read at or
  // after the target; starting here instead of 14 hours back keeps the scan short.
  let t = wall - offsetAt(zone, wall - DAY) - 3 * 60 * MINUTE;
  if (wallClock(zone, t) >= target) throw new Error(`oracle started too late for ${target} ${zone}`);
  while (wallClock(zone, t) < target) t += MINUTE;
  return t;
}

/** ISO 8601 with the zone's offset, as the API renders next_scan_at. */
function oracleIso(zone: string, ms: number): string {
  const offset = offsetAt(zone, ms) / MINUTE;
  const sign = offset < 0 ? '-' : '+';
  const hhmm = `${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return `${wallClock(zone, ms).replace(' ', 'T')}:00.000${zone === 'UTC' ? 'Z' : `${sign}${hhmm}`}`;
}

/** Every slot date from the anchor week to `until`, by calendar arithmetic on the anchor's local date. */
function oracleSlots(rec: Recurrence, anchor: Date, until: string): { date: string; at: number }[] {
  const anchorDay = wallAsUtc(wallClock(rec.timezone, anchor.getTime())) / DAY;
  const sunday = Math.floor(anchorDay) - new Date(Math.floor(anchorDay) * DAY).getUTCDay();
  const slots = [];
  for (let day = sunday + rec.day_of_week; ymd(day) <= until; day += 7 * rec.every_n_weeks) {
    slots.push({ date: ymd(day), at: oracleInstant(rec.timezone, ymd(day), rec.time_of_day) });
  }
  return slots;
}

const utc = (ms: number) => new Date(ms).toISOString();

describe('localSlotInstant: hand-checked transitions', () => {
  it.each([
    ['America/New_York', '2027-03-14', '02:30', '2027-03-14T07:00:00.000Z', 'skipped: 03:00 EDT'],
    ['America/New_York', '2027-03-14', '03:00', '2027-03-14T07:00:00.000Z', 'first minute after the gap'],
    ['America/New_York', '2027-03-14', '01:59', '2027-03-14T06:59:00.000Z', 'last minute before the gap'],
    ['America/New_York', '2027-11-07', '01:30', '2027-11-07T05:30:00.000Z', 'repeated: 01:30 EDT, not EST'],
    ['America/New_York', '2027-11-07', '02:00', '2027-11-07T07:00:00.000Z', 'once, EST'],
    ['Europe/London', '2027-03-28', '01:00', '2027-03-28T01:00:00.000Z', 'skipped: 02:00 BST'],
    ['Europe/London', '2027-10-31', '01:00', '2027-10-31T00:00:00.000Z', 'repeated: 01:00 BST'],
    ['Australia/Lord_Howe', '2027-10-03', '02:15', '2027-10-02T15:30:00.000Z', 'half-hour gap: 02:30 +11'],
    ['Australia/Lord_Howe', '2028-04-02', '01:45', '2028-04-01T14:45:00.000Z', 'half-hour repeat: 01:45 +11'],
    ['Pacific/Chatham', '2027-09-26', '02:45', '2027-09-25T14:00:00.000Z', 'skipped: 03:45 +13:45'],
    ['Pacific/Chatham', '2027-09-26', '03:45', '2027-09-25T14:00:00.000Z', 'the same instant, which exists'],
    ['Pacific/Chatham', '2028-04-02', '03:00', '2028-04-01T13:15:00.000Z', 'repeated: 03:00 +13:45'],
    ['Asia/Kathmandu', '2027-06-01', '05:45', '2027-06-01T00:00:00.000Z', 'a 45-minute offset'],
    ['UTC', '2027-03-14', '02:30', '2027-03-14T02:30:00.000Z', 'no offset'],
  ])('%s %s %s -> %s (%s)', (zone, date, time, expected) => {
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    expect(localSlotInstant({ year, month, day }, time, zone).toUTC().toISO()).toBe(expected);
    expect(utc(oracleInstant(zone, date, time))).toBe(expected);
  });
});

describe('next-run math against the Intl oracle, two years of slots', () => {
  const FROM = new Date('2026-12-01T00:00:00Z');
  const UNTIL = '2028-12-31';
  // [zone, day_of_week, times]: Sunday times sit on the DST transitions of each zone.
  const zones: [string, number, string[]][] = [
    ['America/New_York', 0, ['01:30', '02:30', '03:00', '00:00']],
    ['Europe/London', 0, ['00:30', '01:00', '01:30', '02:00']],
    ['Australia/Lord_Howe', 0, ['01:45', '02:00', '02:15', '02:30']],
    ['Asia/Kathmandu', 3, ['05:45', '00:00']],
    ['Pacific/Chatham', 0, ['02:45', '03:00', '03:45', '3:15']],
    ['UTC', 6, ['00:00', '23:59']],
  ];
  const cases = zones.flatMap(([zone, dow, times]) => times.flatMap((time) => [2, 3].map((n) => [zone, dow, time, n] as const)));

  it.each(cases)('%s day %i at %s every %i weeks', (zone, dow, time, n) => {
    const rec: Recurrence = { day_of_week: dow, time_of_day: time, every_n_weeks: n, timezone: zone };
    // One anchor per phase, so that together they put a slot on every week of the two years.
    for (let phase = 0; phase < n; phase++) {
      const anchor = new Date(Date.parse('2026-11-18T12:00:00Z') + phase * 7 * DAY);
      const all = oracleSlots(rec, anchor, UNTIL);
      const expected = all.filter((s) => s.at >= FROM.getTime());

      const got = upcomingScans(rec, anchor, FROM, expected.length);
      expect(got.map((d) => d.toISO())).toEqual(expected.map((s) => oracleIso(zone, s.at)));
      expect(got.every((d) => d.zoneName === zone)).toBe(true);

      all.forEach((slot, i) => {
        const next = all[i + 1];
        const prev = all[i - 1];
        expect(nextScanAt(rec, anchor, new Date(slot.at)).toMillis()).toBe(slot.at);
        if (next) expect(nextScanAt(rec, anchor, new Date(slot.at + 1)).toMillis()).toBe(next.at);
        expect(previousScanAt(rec, anchor, new Date(slot.at))?.toMillis()).toBe(slot.at);
        expect(previousScanAt(rec, anchor, new Date(slot.at - 1))?.toMillis() ?? null).toBe(prev?.at ?? null);
        const [year, month, day] = slot.date.split('-').map(Number) as [number, number, number];
        expect(localSlotInstant({ year, month, day }, time, zone).toMillis()).toBe(slot.at);
      });

      const dates = got.map((d) => d.toISODate());
      expect(new Set(dates).size).toBe(dates.length);
      expect(got.every((d, i) => i === 0 || d.toMillis() > (got[i - 1]?.toMillis() ?? Infinity))).toBe(true);
    }
  });
});

describe('a repeated local time runs once', () => {
  const rec: Recurrence = { day_of_week: 0, time_of_day: '01:30', every_n_weeks: 2, timezone: 'America/New_York' };
  const anchor = new Date('2027-10-27T12:00:00Z'); // week of 2027-10-24: slots 10-24, 11-07, 11-21

  it('runs at the first 01:30 and next in two weeks, not at the second 01:30', () => {
    const first = nextScanAt(rec, anchor, new Date('2027-11-07T00:00:00Z'));
    expect(first.toISO()).toBe('2027-11-07T01:30:00.000-04:00');
    expect(nextScanAt(rec, anchor, new Date(first.toMillis() + 1)).toISO()).toBe('2027-11-21T01:30:00.000-05:00');
  });

  it('sees the first 01:30 as the latest slot during the second 01:30', () => {
    expect(previousScanAt(rec, anchor, new Date('2027-11-07T06:30:00Z'))?.toUTC().toISO()).toBe('2027-11-07T05:30:00.000Z');
  });
});

describe('the anchor week', () => {
  const ny = (day_of_week: number, every_n_weeks = 2): Recurrence => ({ day_of_week, time_of_day: '02:00', every_n_weeks, timezone: 'America/New_York' });
  const createdWednesday = new Date('2027-06-09T14:00:00Z'); // Wednesday 10:00 in New York

  it('skips a Monday already past: the first run is every_n_weeks weeks after that Monday', () => {
    expect(nextScanAt(ny(1), createdWednesday, createdWednesday).toISO()).toBe('2027-06-21T02:00:00.000-04:00');
    expect(nextScanAt(ny(1, 3), createdWednesday, createdWednesday).toISO()).toBe('2027-06-28T02:00:00.000-04:00');
  });

  it('keeps a Friday later in the same week', () => {
    expect(nextScanAt(ny(5), createdWednesday, createdWednesday).toISO()).toBe('2027-06-11T02:00:00.000-04:00');
  });

  it('never gives a slot before the anchor week, even from an earlier instant', () => {
    const from = new Date('2020-01-01T00:00:00Z');
    expect(nextScanAt(ny(0), createdWednesday, from).toISO()).toBe('2027-06-06T02:00:00.000-04:00');
    expect(previousScanAt(ny(0), createdWednesday, from)).toBeNull();
    expect(previousScanAt(ny(5), createdWednesday, new Date('2027-06-11T05:59:59.999Z'))).toBeNull();
  });

  it('is the week in the schedule zone, not in UTC', () => {
    // Saturday 22:00 in New York is already Sunday in UTC, the first day of the next UTC week.
    const anchor = new Date('2027-06-06T02:00:00Z');
    const rec = (timezone: string): Recurrence => ({ day_of_week: 6, time_of_day: '23:00', every_n_weeks: 2, timezone });
    expect(nextScanAt(rec('America/New_York'), anchor, anchor).toISO()).toBe('2027-06-05T23:00:00.000-04:00');
    expect(nextScanAt(rec('UTC'), anchor, anchor).toISO()).toBe('2027-06-12T23:00:00.000Z');
  });

  it('counts periods from the anchor week across a year end', () => {
    const anchor = new Date('2027-12-29T12:00:00Z');
    const runs = upcomingScans({ day_of_week: 0, time_of_day: '09:00', every_n_weeks: 3, timezone: 'Europe/London' }, anchor, anchor, 3);
    expect(runs.map((d) => d.toISODate())).toEqual(['2028-01-16', '2028-02-06', '2028-02-27']);
  });
});

describe('nextScanAt, previousScanAt and upcomingScans at the edges', () => {
  const rec: Recurrence = { day_of_week: 2, time_of_day: '7:05', every_n_weeks: 2, timezone: 'Asia/Kathmandu' };
  const anchor = new Date('2027-01-01T00:00:00Z');
  const slot = new Date('2027-01-12T01:20:00Z'); // Tuesday 07:05 +05:45

  it('returns the slot itself when from or at is exactly a slot', () => {
    expect(nextScanAt(rec, anchor, slot).toISO()).toBe('2027-01-12T07:05:00.000+05:45');
    expect(previousScanAt(rec, anchor, slot)?.toMillis()).toBe(slot.getTime());
  });

  it('returns no scans for a count of 0', () => {
    expect(upcomingScans(rec, anchor, slot, 0)).toEqual([]);
  });

  it.each<[string, Partial<Recurrence>]>([
    ['an unknown zone', { timezone: 'Mars/Base' }],
    ['an offset, which ICU 78 takes as a zone', { timezone: '+05:00' }],
    ['a malformed time', { time_of_day: '25:00' }],
    ['a day of week out of range', { day_of_week: 7 }],
  ])('throws on %s', (_name, patch) => {
    expect(() => nextScanAt({ ...rec, ...patch }, anchor, slot)).toThrow(RangeError);
  });

  it('throws on an invalid Date rather than returning an invalid DateTime', () => {
    expect(() => nextScanAt(rec, anchor, new Date(Number.NaN))).toThrow(RangeError);
    expect(() => previousScanAt(rec, new Date('nope'), slot)).toThrow(RangeError);
  });

  it('is cheap enough for every schedule on every tick', () => {
    const started = performance.now();
    for (let i = 0; i < 1000; i++) nextScanAt(rec, anchor, new Date(slot.getTime() + i * 3_600_000));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

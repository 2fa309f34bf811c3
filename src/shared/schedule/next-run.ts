/**
 * When a schedule runs: `day_of_week` at `time_of_day` in `timezone`, every `every_n_weeks` weeks
 * counted from the Sunday-started week (in that zone) that holds the schedule's anchor.
 *
 * All of it is arithmetic on epoch days and zone offsets, a handful of offset look-ups per call,
 * because the daemon recomputes this for every schedule on every tick.
 */
import { DateTime, IANAZone } from 'luxon';
import { isIanaZoneName } from './time-zone.js';

export interface Recurrence {
  day_of_week: number;
  time_of_day: string;
  every_n_weeks: number;
  timezone: string;
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

function zoneOf(name: string): IANAZone {
  if (!isIanaZoneName(name)) throw new RangeError(`not an IANA time zone: ${name}`);
  return IANAZone.create(name);
}

function minutesOfDay(timeOfDay: string): number {
  const m = /^([0-1]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(timeOfDay);
  if (!m) throw new RangeError(`not a time of day (HH:mm): ${JSON.stringify(timeOfDay)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function msOf(date: Date, name: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid Date`);
  return ms;
}

const epochDay = (d: CalendarDate): number => Date.UTC(d.year, d.month - 1, d.day) / DAY;

/** The zone's calendar day (days since 1970-01-01) that holds `ms`. */
const localEpochDay = (zone: IANAZone, ms: number): number => Math.floor((ms + zone.offset(ms) * MINUTE) / DAY);

/**
 * The UTC instant of `wall` (a local wall-clock time written as if it were UTC milliseconds).
 * Luxon would move a skipped time forward by the size of the gap (02:30 -> 03:30) and pick an
 * occurrence of a repeated time by its own guess; the API wants the first valid minute at or after
 * a skipped time and the first occurrence of a repeated one, so the offsets are checked here.
 */
function wallToInstant(zone: IANAZone, wall: number): number {
  // An instant for `wall` lies within 14 hours of it, so the offsets a day either side are the only
  // two it can have (zones change offset months apart, not twice in two days).
  const before = zone.offset(wall - DAY);
  const after = zone.offset(wall + DAY);
  if (before === after) return wall - before * MINUTE;
  const candidates = [before, after]
    .map((offset) => ({ offset, at: wall - offset * MINUTE }))
    .filter(({ offset, at }) => zone.offset(at) === offset)
    .map(({ at }) => at);
  if (candidates.length > 0) return Math.min(...candidates);
  if (after <= before) throw new Error(`cannot resolve ${new Date(wall).toISOString().slice(0, 16)} in ${zone.name}`);
  // Skipped: the first valid minute after is the transition itself, which lies in (lo, hi].
  let lo = wall - after * MINUTE;
  let hi = wall - before * MINUTE;
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE;
    if (zone.offset(mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The instant of `timeOfDay` on `date` in `zone`, with the API's rules for skipped and repeated times. */
export function localSlotInstant(date: CalendarDate, timeOfDay: string, zone: string): DateTime {
  const ms = wallToInstant(zoneOf(zone), epochDay(date) * DAY + minutesOfDay(timeOfDay) * MINUTE);
  return DateTime.fromMillis(ms, { zone: 'utc' });
}

/** The slots of one schedule, numbered k = 0, 1, 2... from the anchor week. */
function slotsOf(rec: Recurrence, anchor: Date) {
  const { day_of_week: dow, every_n_weeks: n } = rec;
  if (!Number.isInteger(dow) || dow < 0 || dow > 6) throw new RangeError(`day_of_week must be 0..6, got ${dow}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`every_n_weeks must be a positive integer, got ${n}`);
  const zone = zoneOf(rec.timezone);
  const minutes = minutesOfDay(rec.time_of_day);
  const anchorDay = localEpochDay(zone, msOf(anchor, 'anchor'));
  // 1970-01-01 was a Thursday, so epoch day d falls on weekday (d + 4) mod 7 with 0 = Sunday.
  const firstDay = anchorDay - ((((anchorDay + 4) % 7) + 7) % 7) + dow;
  const period = 7 * n;
  return {
    at: (k: number): number => wallToInstant(zone, (firstDay + k * period) * DAY + minutes * MINUTE),
    /** A slot index a little before the one for `ms`; slots are weeks apart, so a few steps settle it. */
    near: (ms: number): number => Math.floor((localEpochDay(zone, ms) - firstDay) / period),
    dateTime: (ms: number): DateTime => DateTime.fromMillis(ms, { zone: rec.timezone }),
  };
}

/** The first slot at or after `from`, in the schedule's zone. */
export function nextScanAt(rec: Recurrence, anchor: Date, from: Date): DateTime {
  const slots = slotsOf(rec, anchor);
  return slots.dateTime(slots.at(firstIndexFrom(slots, msOf(from, 'from'))));
}

/** The last slot at or before `at`, in the schedule's zone, or null before the first slot. */
export function previousScanAt(rec: Recurrence, anchor: Date, at: Date): DateTime | null {
  const slots = slotsOf(rec, anchor);
  const ms = msOf(at, 'at');
  let k = slots.near(ms) + 1;
  while (k >= 0 && slots.at(k) > ms) k--;
  return k < 0 ? null : slots.dateTime(slots.at(k));
}

/** The next `count` slots at or after `from`, in the schedule's zone. */
export function upcomingScans(rec: Recurrence, anchor: Date, from: Date, count: number): DateTime[] {
  const slots = slotsOf(rec, anchor);
  const first = firstIndexFrom(slots, msOf(from, 'from'));
  return Array.from({ length: Math.max(0, Math.floor(count)) }, (_, i) => slots.dateTime(slots.at(first + i)));
}

function firstIndexFrom(slots: ReturnType<typeof slotsOf>, ms: number): number {
  let k = Math.max(0, slots.near(ms) - 1);
  while (slots.at(k) < ms) k++;
  return k;
}

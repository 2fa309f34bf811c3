/**
 * A schedule's scan window: the local hours (in the schedule's zone) during which its scans may
 * send packets. `end` before `start` spans midnight (22:00-06:00); no window means always open.
 * The agent pauses a run when its window closes and resumes it at the next opening; the router
 * watch asks the same function before a micro-scan. One rule, so every part agrees on the hours.
 */
import { DateTime } from 'luxon';
import { localSlotInstant, type CalendarDate } from './next-run.js';
import { normalizeTimeOfDay } from './rules.js';

export interface ScanWindow {
  /** Local 'HH:mm' the window opens at. */
  start: string;
  /** Local 'HH:mm' it closes at (exclusive); before `start` means the next day. */
  end: string;
}

export interface WindowState {
  open: boolean;
  /** Closed: the instant it opens next. Null while open (or with no window). */
  nextOpen: Date | null;
  /** Open: the instant it closes. Null while closed (or with no window: it never closes). */
  closesAt: Date | null;
}

const ALWAYS_OPEN: WindowState = Object.freeze({ open: true, nextOpen: null, closesAt: null });

/**
 * Whether `window` is open at `at` in `zone`, and when that changes. Local times follow the API's
 * slot rules (next-run.ts): a time skipped by a DST jump means the first minute after it, a repeated
 * one its first occurrence, so a window is one stretch per local day even on DST days (an
 * 02:00-03:00 window on a spring-forward night is empty; on a fall-back night it lasts two hours).
 */
export function windowState(window: ScanWindow | null | undefined, zone: string, at: Date): WindowState {
  if (window === null || window === undefined) return ALWAYS_OPEN;
  const start = normalizeTimeOfDay(window.start);
  const end = normalizeTimeOfDay(window.end);
  if (start === end) throw new RangeError(`a window must not start and end at the same time (${start})`);
  const ms = at.getTime();
  if (Number.isNaN(ms)) throw new RangeError('at is an invalid Date');
  const spansMidnight = end < start;
  const today = DateTime.fromMillis(ms, { zone });
  if (!today.isValid) throw new RangeError(`not a time zone: ${zone}`);
  // The stretches opened yesterday (it may span midnight into today), today and in the next two days.
  const stretches = [-1, 0, 1, 2].map((offset) => {
    const day = today.plus({ days: offset });
    const date: CalendarDate = { year: day.year, month: day.month, day: day.day };
    const closing = spansMidnight ? day.plus({ days: 1 }) : day;
    return {
      opens: localSlotInstant(date, start, zone).toMillis(),
      closes: localSlotInstant({ year: closing.year, month: closing.month, day: closing.day }, end, zone).toMillis(),
    };
  });
  const current = stretches.find((s) => s.opens <= ms && ms < s.closes);
  if (current) return { open: true, nextOpen: null, closesAt: new Date(current.closes) };
  const next = stretches.find((s) => s.opens > ms && s.opens < s.closes);
  // Four days always hold an opening: a stretch is empty only on a DST night, one night at a time.
  return { open: false, nextOpen: new Date((next as { opens: number }).opens), closesAt: null };
}

/** "22:00-06:00 Europe/Berlin": how a window is named in events and listings. */
export function windowLabel(window: ScanWindow, zone: string): string {
  return `${normalizeTimeOfDay(window.start)}-${normalizeTimeOfDay(window.end)} ${zone}`;
}

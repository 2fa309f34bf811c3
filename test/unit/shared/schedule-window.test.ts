import { describe, expect, it } from 'vitest';
import { validateScheduleWrite } from '../../../src/shared/schedule/rules.js';
import { windowState } from '../../../src/shared/schedule/window.js';

const at = (iso: string) => new Date(iso);
const iso = (date: Date | null) => date?.toISOString() ?? null;
const state = (window: { start: string; end: string } | null, zone: string, when: string) => {
  const s = windowState(window, zone, at(when));
  return { open: s.open, nextOpen: iso(s.nextOpen), closesAt: iso(s.closesAt) };
};

describe('windowState', () => {
  it('is always open without a window', () => {
    expect(state(null, 'UTC', '2026-03-01T12:00:00Z')).toEqual({ open: true, nextOpen: null, closesAt: null });
  });

  it('opens and closes within one day, with the end exclusive', () => {
    const w = { start: '09:00', end: '17:00' };
    expect(state(w, 'UTC', '2026-03-02T08:59:59.999Z')).toEqual({ open: false, nextOpen: '2026-03-02T09:00:00.000Z', closesAt: null });
    expect(state(w, 'UTC', '2026-03-02T09:00:00Z')).toEqual({ open: true, nextOpen: null, closesAt: '2026-03-02T17:00:00.000Z' });
    expect(state(w, 'UTC', '2026-03-02T17:00:00Z')).toEqual({ open: false, nextOpen: '2026-03-03T09:00:00.000Z', closesAt: null });
  });

  it('spans midnight when the end comes before the start', () => {
    const w = { start: '22:00', end: '06:00' };
    // 21:30 EDT: not yet.
    expect(state(w, 'America/New_York', '2026-06-10T01:30:00Z')).toEqual({ open: false, nextOpen: '2026-06-10T02:00:00.000Z', closesAt: null });
    expect(state(w, 'America/New_York', '2026-06-10T02:30:00Z')).toEqual({ open: true, nextOpen: null, closesAt: '2026-06-10T10:00:00.000Z' });
    expect(state(w, 'America/New_York', '2026-06-10T03:00:00Z')).toEqual({ open: true, nextOpen: null, closesAt: '2026-06-10T10:00:00.000Z' });
    expect(state(w, 'America/New_York', '2026-06-10T12:00:00Z')).toEqual({ open: false, nextOpen: '2026-06-11T02:00:00.000Z', closesAt: null });
    // Just before midnight local, opened the same evening.
    expect(state(w, 'America/New_York', '2026-06-11T03:59:00Z').closesAt).toBe('2026-06-11T10:00:00.000Z');
  });

  it('follows the spring-forward day: a window across the jump is an hour shorter, one inside it is empty that night', () => {
    // Europe/Berlin: 2026-03-29 02:00 CET becomes 03:00 CEST (01:00Z).
    const across = { start: '01:00', end: '05:00' };
    expect(state(across, 'Europe/Berlin', '2026-03-29T00:30:00Z')).toEqual({ open: true, nextOpen: null, closesAt: '2026-03-29T03:00:00.000Z' });
    const inside = { start: '02:00', end: '03:00' };
    // 02:00 does not exist that night: it opens at the first minute after (03:00 CEST) and closes then too, so the next opening is a day later.
    expect(state(inside, 'Europe/Berlin', '2026-03-29T00:30:00Z')).toEqual({ open: false, nextOpen: '2026-03-30T00:00:00.000Z', closesAt: null });
  });

  it('follows the fall-back day: a window across the repeated hour lasts an hour longer', () => {
    // America/New_York: 2026-11-01 02:00 EDT becomes 01:00 EST (06:00Z).
    const w = { start: '00:00', end: '03:00' };
    expect(state(w, 'America/New_York', '2026-11-01T04:00:00Z')).toEqual({ open: true, nextOpen: null, closesAt: '2026-11-01T08:00:00.000Z' });
    // A repeated start time counts its first occurrence (01:30 EDT = 05:30Z).
    expect(state({ start: '01:30', end: '04:00' }, 'America/New_York', '2026-11-01T05:00:00Z').nextOpen).toBe('2026-11-01T05:30:00.000Z');
  });

  it('reads Etc zones with their inverted signs', () => {
    // Etc/GMT+5 is UTC-5: 22:00 there is 03:00Z.
    expect(state({ start: '22:00', end: '23:00' }, 'Etc/GMT+5', '2026-03-02T02:00:00Z').nextOpen).toBe('2026-03-02T03:00:00.000Z');
    expect(state({ start: '22:00', end: '23:00' }, 'Etc/GMT-14', '2026-03-02T08:30:00Z')).toEqual({
      open: true,
      nextOpen: null,
      closesAt: '2026-03-02T09:00:00.000Z',
    });
  });

  it('refuses a window that starts when it ends, and a zone that is not one', () => {
    expect(() => windowState({ start: '06:00', end: '6:00' }, 'UTC', new Date())).toThrow(/same time/);
    expect(() => windowState({ start: '06:00', end: '07:00' }, 'Mars/Olympus', new Date())).toThrow(RangeError);
  });
});

describe('the window field of a schedule write', () => {
  const base = {
    description: '',
    day_of_week: 0,
    time_of_day: '02:00',
    every_n_weeks: 2,
    timezone: 'UTC',
    min_cvss: 4,
    warning_threshold: 7,
    sites: [{ id: '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90', subnet: '192.168.88.0/24' }],
    notification_group: 'default',
  };

  it('is optional, nullable, and normalized to HH:mm', () => {
    expect(validateScheduleWrite(base)).toMatchObject({ ok: true });
    expect(validateScheduleWrite({ ...base, window: null })).toMatchObject({ ok: true, value: { window: null } });
    expect(validateScheduleWrite({ ...base, window: { start: '7:00', end: '19:30' } })).toMatchObject({
      ok: true,
      value: { window: { start: '07:00', end: '19:30' } },
    });
  });

  it('names each broken rule with its path', () => {
    const errors = (window: unknown) => {
      const result = validateScheduleWrite({ ...base, window });
      return result.ok ? [] : result.errors.map((e) => e.field);
    };
    expect(errors({ start: '22:00', end: '22:00' })).toEqual(['window.end']);
    expect(errors({ start: '24:00', end: '06:00' })).toEqual(['window.start']);
    expect(errors({ start: '22:00' })).toEqual(['window.end']);
    expect(errors({ start: '22:00', end: '06:00', days: 5 })).toEqual(['window.days']);
    expect(errors('22:00-06:00')).toEqual(['window']);
  });
});

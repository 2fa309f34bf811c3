import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { renderInZone, renderOptionalInZone } from '../../../src/shared/schedule/zone-time.js';

describe('renderInZone: the CLI and the API print a schedule time the same way', () => {
  it.each([
    ['2026-12-03T03:00:00.000Z', 'America/New_York', '2026-12-02T22:00:00-05:00'],
    ['2026-07-01T06:05:00.000Z', 'America/New_York', '2026-07-01T02:05:00-04:00'],
    ['2026-12-03T03:00:00.000Z', 'UTC', '2026-12-03T03:00:00Z'],
    ['2026-12-03T03:00:00.000Z', 'Asia/Kathmandu', '2026-12-03T08:45:00+05:45'],
  ])('%s in %s -> %s', (iso, zone, expected) => {
    expect(renderInZone(iso, zone)).toBe(expected);
    expect(renderInZone(new Date(iso), zone)).toBe(expected);
    expect(renderInZone(DateTime.fromISO(iso), zone)).toBe(expected);
  });

  it('keeps an absent time absent', () => {
    expect(renderOptionalInZone(null, 'UTC')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { hostInOpenWindows, type WindowedSchedule } from '../../../src/agent/schedule/watch-hours.js';

const site = 'site-a';
const office: WindowedSchedule = { timezone: 'Europe/Berlin', window: { start: '09:00', end: '17:00' }, sites: [{ id: site, subnet: '10.1.0.0/24' }] };
const nights: WindowedSchedule = { timezone: 'UTC', window: { start: '22:00', end: '06:00' }, sites: [{ id: site, subnet: '10.1.0.0/23' }] };
const always: WindowedSchedule = { timezone: 'UTC', window: null, sites: [{ id: site, subnet: '10.2.0.0/24' }] };
// 10:00 in Berlin (UTC+1 in December).
const berlinMorning = new Date('2026-12-07T09:00:00Z');

describe('when the router watch may scan a host', () => {
  it('keeps to the window of a schedule whose subnet holds the host', () => {
    expect(hostInOpenWindows([office], site, '10.1.0.5', berlinMorning)).toBe(true);
    expect(hostInOpenWindows([office], site, '10.1.0.5', new Date('2026-12-07T17:30:00Z'))).toBe(false);
  });

  it('waits while any covering window is closed', () => {
    expect(hostInOpenWindows([office, nights], site, '10.1.0.5', berlinMorning)).toBe(false);
    // 10.1.1.5 lies only in the night schedule's /23.
    expect(hostInOpenWindows([office, nights], site, '10.1.1.5', new Date('2026-12-07T23:00:00Z'))).toBe(true);
  });

  it('ignores schedules of other subnets or other sites, and a schedule with no window', () => {
    expect(hostInOpenWindows([office], site, '10.2.0.5', new Date('2026-12-07T20:00:00Z'))).toBe(true);
    expect(hostInOpenWindows([office], 'site-b', '10.1.0.5', new Date('2026-12-07T20:00:00Z'))).toBe(true);
    expect(hostInOpenWindows([always], site, '10.2.0.5', new Date('2026-12-07T20:00:00Z'))).toBe(true);
    expect(hostInOpenWindows([], site, '10.1.0.5', new Date('2026-12-07T20:00:00Z'))).toBe(true);
  });
});

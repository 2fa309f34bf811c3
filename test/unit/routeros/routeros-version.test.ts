import { describe, expect, it } from 'vitest';
import { parseRouterOsDuration, parseRouterOsVersion, routerOsCpe } from '../../../src/agent/routeros/routeros-version.js';

describe('RouterOS versions and their CPE names', () => {
  it.each([
    ['6.48.6 (long-term)', 'cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:ltr:*:*:*'],
    ['7.15.1 (stable) 2024-06-07 12:49:11', 'cpe:2.3:o:mikrotik:routeros:7.15.1:*:*:*:-:*:*:*'],
    ['7.16rc2 (testing)', 'cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*'],
    ['7.1beta4 (development)', 'cpe:2.3:o:mikrotik:routeros:7.1:beta4:*:*:-:*:*:*'],
    ['6.40.8 (bugfix)', 'cpe:2.3:o:mikrotik:routeros:6.40.8:*:*:*:ltr:*:*:*'],
    ['"5.0rc1"', 'cpe:2.3:o:mikrotik:routeros:5.0:rc1:*:*:*:*:*:*'],
    ['7.4', 'cpe:2.3:o:mikrotik:routeros:7.4:*:*:*:*:*:*:*'],
  ])('%s -> %s', (raw, cpe) => {
    const version = parseRouterOsVersion(raw);
    expect(version).toBeDefined();
    expect(routerOsCpe(version!)).toBe(cpe);
  });

  it('refuses what is not a version', () => {
    expect(parseRouterOsVersion('')).toBeUndefined();
    expect(parseRouterOsVersion('stable')).toBeUndefined();
    expect(parseRouterOsVersion(undefined)).toBeUndefined();
  });

  it('reads durations in both console styles', () => {
    expect(parseRouterOsDuration('1w2d3h4m5s')).toBe(((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000);
    expect(parseRouterOsDuration('3m9s')).toBe(189_000);
    expect(parseRouterOsDuration('00:01:02')).toBe(62_000);
    expect(parseRouterOsDuration('250ms')).toBe(250);
    expect(parseRouterOsDuration('never')).toBeUndefined();
    expect(parseRouterOsDuration('3 minutes')).toBeUndefined();
  });
});

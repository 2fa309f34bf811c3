import { describe, expect, it } from 'vitest';
import { parseRouterOsDuration } from '../../../src/agent/routeros/routeros-version.js';

// RouterOS versions and channels: test/unit/shared/routeros-version.test.ts; their CPE names: test/unit/cve/product-names.test.ts.
describe('RouterOS durations', () => {
  it('reads durations in both console styles', () => {
    expect(parseRouterOsDuration('1w2d3h4m5s')).toBe(((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000);
    expect(parseRouterOsDuration('3m9s')).toBe(189_000);
    expect(parseRouterOsDuration('00:01:02')).toBe(62_000);
    expect(parseRouterOsDuration('250ms')).toBe(250);
    expect(parseRouterOsDuration('never')).toBeUndefined();
    expect(parseRouterOsDuration('3 minutes')).toBeUndefined();
  });
});

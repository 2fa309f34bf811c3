import { describe, expect, it } from 'vitest';
import { compareVersions, hasPreReleaseMarker, isPreRelease, withinBounds } from '../../../src/cve/version.js';

// `|| 0` folds -0 into 0 so toBe compares signs, not zeros.
const sign = (n: number) => Math.sign(n) || 0;

describe('compareVersions', () => {
  it.each([
    ['6.9', '6.10', -1],
    ['6.10', '6.9', 1],
    ['1.0', '1.0.0', 0],
    ['1.0.0', '1.0', 0],
    ['1.0', '1.0.1', -1],
    ['1.1.1', '1.1.1k', -1],
    ['1.1.1k', '1.1.1l', -1],
    ['1.1.1k', '1.1.2', -1],
    ['1.3.5b', '1.3.5', 1],
    ['1.3.5b', '1.3.6c', -1],
    ['1.3.8', '1.3.8a', -1],
    ['9.2p1', '9.2', 1],
    ['9.2p1', '9.2p2', -1],
    ['9.2p1', '9.3', -1],
    ['9.2p1', '9.2.1', -1],
    ['2016.73', '2016.74', -1],
    ['2022.83', '2020.79', 1],
    ['7.1beta4', '7.1rc1', -1],
    ['7.1rc1', '7.1', -1],
    ['7.1beta4', '7.1', -1],
    ['7.1', '7.1.1', -1],
    ['7.1rc1', '7.1rc2', -1],
    ['7.1rc9', '7.1rc10', -1],
    ['7.1alpha2', '7.1beta1', -1],
    ['7.1beta1', '7.1.1', -1],
    ['4.90.1', '4.90', 1],
    ['4.94', '4.94.1', -1],
    ['r22', 'r27', -1],
    ['v2.4.1', '2.4.1', 0],
    ['2.4.010', '2.4.9', 1],
    ['6.2.4-25556.4', '6.2.4-25556', 1],
    ['123456789012345678901', '123456789012345678902', -1],
  ])('%s vs %s -> %i', (a, b, expected) => {
    expect(sign(compareVersions(a, b))).toBe(expected);
    expect(sign(compareVersions(b, a))).toBe(-expected || 0);
  });

  it('sorts a RouterOS release history', () => {
    const shuffled = ['7.1', '7.1beta4', '6.49.7', '7.1rc1', '7.10', '7.1beta2', '7.1.1', '7.9.2', '6.49.10'];
    expect([...shuffled].sort(compareVersions)).toEqual(['6.49.7', '6.49.10', '7.1beta2', '7.1beta4', '7.1rc1', '7.1', '7.1.1', '7.9.2', '7.10']);
  });
});

describe('withinBounds', () => {
  it('honours Including and Excluding at both ends', () => {
    expect(withinBounds('2.4.0', { versionStartIncluding: '2.4.0' })).toBe(true);
    expect(withinBounds('2.4.0', { versionStartExcluding: '2.4.0' })).toBe(false);
    expect(withinBounds('2.4.1', { versionStartExcluding: '2.4.0' })).toBe(true);
    expect(withinBounds('2.4.29', { versionEndIncluding: '2.4.29' })).toBe(true);
    expect(withinBounds('2.4.29', { versionEndExcluding: '2.4.29' })).toBe(false);
    expect(withinBounds('2.4.28', { versionEndExcluding: '2.4.29' })).toBe(true);
    expect(withinBounds('5.0', {})).toBe(true);
  });
});

describe('pre-release words', () => {
  it('knows rc, beta and alpha updates from post-release ones', () => {
    expect(isPreRelease('rc1')).toBe(true);
    expect(isPreRelease('beta20')).toBe(true);
    expect(isPreRelease('p1')).toBe(false);
    expect(isPreRelease('s1')).toBe(false);
    expect(hasPreReleaseMarker('7.1rc1')).toBe(true);
    expect(hasPreReleaseMarker('1.3.5b')).toBe(false);
  });
});

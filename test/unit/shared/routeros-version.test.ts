import { describe, expect, it } from 'vitest';
import {
  parseRouterOsChannel,
  parseRouterOsVersion,
  routerOsChannelOfSwEdition,
  routerOsSwEdition,
  type RouterOsChannel,
} from '../../../src/shared/routeros-version.js';

/**
 * One rule for RouterOS versions and channels. NVD files RouterOS CPEs under sw_edition `*`, `-`,
 * `ltr` or `testing` only (shared/data/nvd), every beta and rc under `testing`.
 */
describe('parseRouterOsVersion and routerOsSwEdition', () => {
  type Row = [
    text: string,
    channelGiven: string | undefined,
    version: string,
    prerelease: string | undefined,
    channel: RouterOsChannel | undefined,
    swEdition: string | undefined,
  ];
  it.each<Row>([
    ['6.48.6 (long-term)', undefined, '6.48.6', undefined, 'long-term', 'ltr'],
    // Long-term's name before 6.41; a real neighbor fixture (napalm-ros) prints it.
    ['6.40.8 (bugfix)', undefined, '6.40.8', undefined, 'long-term', 'ltr'],
    ['6.49.7 (ltr)', undefined, '6.49.7', undefined, 'long-term', 'ltr'],
    ['7.15.1 (stable) 2024-06-07 12:49:11', undefined, '7.15.1', undefined, 'stable', '-'],
    ['7.12.1 (Stable)', undefined, '7.12.1', undefined, 'stable', '-'],
    ['v7.12.1 (stable)', undefined, '7.12.1', undefined, 'stable', '-'],
    ['6.38.5 (current)', undefined, '6.38.5', undefined, 'stable', '-'],
    ['7.16rc2 (testing)', undefined, '7.16', 'rc2', 'testing', 'testing'],
    // RouterOS 7's beta channel: NVD files betas under testing (was `-`, stable, in the router module).
    ['7.1beta4 (development)', undefined, '7.1', 'beta4', 'development', 'testing'],
    ['6.44beta20 (release candidate)', undefined, '6.44', 'beta20', 'testing', 'testing'],
    ['7.16rc2', undefined, '7.16', 'rc2', undefined, 'testing'],
    ['"5.0rc1"', undefined, '5.0', 'rc1', undefined, 'testing'],
    ['6.44', undefined, '6.44', undefined, undefined, undefined],
    ['7.4', undefined, '7.4', undefined, undefined, undefined],
    ['6.48.6', 'long-term', '6.48.6', undefined, 'long-term', 'ltr'],
    ['6.48.6 (stable)', 'long-term', '6.48.6', undefined, 'long-term', 'ltr'],
    ['7.1rc1 long-term', undefined, '7.1', 'rc1', 'long-term', 'ltr'],
    ['7.20 (frobnicate)', undefined, '7.20', undefined, undefined, undefined],
    ['7.1.1.1', undefined, '7.1.1.1', undefined, undefined, undefined],
    ['7.16RC2', undefined, '7.16', 'rc2', undefined, 'testing'],
  ])('%s (channel %s) -> %s %s %s, sw_edition %s', (text, channelGiven, version, prerelease, channel, swEdition) => {
    const release = parseRouterOsVersion(text, channelGiven);
    expect(release).toEqual({ version, prerelease, channel, display: version + (prerelease ?? '') });
    expect(routerOsSwEdition(release!)).toBe(swEdition);
  });

  it.each([[''], ['stable'], ['RouterOS'], ['7'], ['7.1.1.1.1'], ['7.16rc2x'], ['   ']])('refuses %j', (text) => {
    expect(parseRouterOsVersion(text)).toBeUndefined();
  });

  it('refuses no text', () => {
    expect(parseRouterOsVersion(undefined)).toBeUndefined();
  });
});

describe('RouterOS channels', () => {
  it.each<[string | undefined, RouterOsChannel | undefined]>([
    ['long-term', 'long-term'],
    ['LTR', 'long-term'],
    ['bugfix', 'long-term'],
    ['stable', 'stable'],
    ['Current', 'stable'],
    ['testing', 'testing'],
    ['Release  Candidate', 'testing'],
    ['development', 'development'],
    ['frobnicate', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j is %s', (word, channel) => {
    expect(parseRouterOsChannel(word)).toBe(channel);
  });

  it('maps every sw_edition NVD uses back to a channel, and only those', () => {
    expect(routerOsChannelOfSwEdition).toEqual({ ltr: 'long-term', '-': 'stable', testing: 'testing' });
    for (const channel of ['long-term', 'stable', 'testing'] as const) {
      expect(routerOsChannelOfSwEdition[routerOsSwEdition({ channel, prerelease: undefined }) as string]).toBe(channel);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfig } from '../../../src/agent/config/load.js';
import type { AgentError } from '../../../src/agent/errors.js';

const base = { site_id: '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90', subnets: ['192.168.88.0/24'] };
const DAY = 86_400_000;
const feedOf = (feed: unknown) => buildConfig({ ...base, feed }, '/etc/cve-agent/config.yaml', { env: {} }).config.feed;

function errorsOf(feed: unknown): string[] {
  try {
    feedOf(feed);
  } catch (error) {
    expect((error as AgentError).code).toBe('AGENT_ERR_CONFIG_INVALID');
    return [...(error as AgentError).details];
  }
  throw new Error('expected the config to be refused');
}

describe('the feed section', () => {
  it('defaults to 7 days, self-update off (opt-in), every source at its public URL and schedule', () => {
    const feed = feedOf(undefined);
    expect(feed).toMatchObject({ max_age_days: 7, stale_after: 7 * DAY, self_update: false, catch_up_after: 60_000 });
    expect(Object.entries(feed.sources).map(([name, s]) => [name, s.enabled, s.schedule])).toEqual([
      ['nvd', true, '0 */2 * * *'],
      ['kev', true, '30 3 * * *'],
      ['epss', true, '45 3 * * *'],
      ['debian', true, '0 4 * * *'],
      ['ubuntu', true, '20 4 * * *'],
      ['routeros', true, '15 */6 * * *'],
    ]);
  });

  it('takes max_age_days, or the older stale_after, but not both', () => {
    expect(feedOf({ max_age_days: 14 })).toMatchObject({ max_age_days: 14, stale_after: 14 * DAY });
    expect(feedOf({ stale_after: '36h' })).toMatchObject({ max_age_days: 1.5, stale_after: 1.5 * DAY });
    expect(errorsOf({ max_age_days: 3, stale_after: '3d' })).toEqual([
      expect.stringMatching(/^feed\.max_age_days: give max_age_days or stale_after, not both/),
    ]);
    expect(errorsOf({ max_age_days: 0 })[0]).toMatch(/^feed\.max_age_days: /);
  });

  it('points a source at a mirror and refuses what is not a URL or a cron string, naming the path', () => {
    const feed = feedOf({ sources: { debian: { url: 'https://mirror.lan/security-tracker/data' }, ubuntu: { enabled: false } } });
    expect(feed.sources.debian.url).toBe('https://mirror.lan/security-tracker/data');
    expect(feed.sources.ubuntu.enabled).toBe(false);
    const errors = errorsOf({ sources: { kev: { url: 'not a url', schedule: 'daily' }, snort: {} } });
    expect(errors.some((e) => e.startsWith('feed.sources.kev.url: '))).toBe(true);
    expect(errors.some((e) => e.startsWith('feed.sources.kev.schedule: '))).toBe(true);
    expect(errors.some((e) => e.includes('snort'))).toBe(true);
  });

  it('config.example.yaml: each commented feed example is a valid feed section once uncommented', () => {
    const lines = readFileSync(new URL('../../../config.example.yaml', import.meta.url), 'utf8').split('\n');
    const blocks: string[][] = [];
    let current: string[] | undefined;
    for (const line of lines) {
      if (line === '# feed:') blocks.push((current = ['feed:']));
      else if (current && line.startsWith('#   ')) current.push(line.slice(2));
      else current = undefined;
    }
    expect(blocks).toHaveLength(2);
    const [full, airGapped] = blocks.map((block) => feedOf((parse(block.join('\n')) as { feed: unknown }).feed));
    // The documented values are the defaults, with self-update turned on (it is opt-in).
    expect(full).toEqual({ ...feedOf(undefined), self_update: true });
    expect(airGapped!.self_update).toBe(true);
    expect(airGapped!.sources.nvd.enabled).toBe(false);
    expect(
      Object.values(airGapped!.sources)
        .filter((s) => s.enabled)
        .every((s) => s.url.startsWith('http://mirror.lan/')),
    ).toBe(true);
  });
});

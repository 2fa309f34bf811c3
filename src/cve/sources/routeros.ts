import type { Db } from '../../shared/sqlite.js';
import { CveError } from '../errors.js';
import { createFetchKit } from './http.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';

/** The base of the files RouterOS reads on "check for updates": `<base>/NEWESTa7.<channel>`. */
export const defaultRouterosUrl = 'https://upgrade.mikrotik.com/routeros';
export const routerosChannels = ['stable', 'long-term', 'testing', 'development'] as const;

/** A NEWEST file: `7.16.2 1734012345`, the version and its release as unix seconds. */
const newestLine = /^(\d+\.\d+(?:\.\d+)?(?:(?:beta|rc)\d+)?)\s+(\d{9,11})\s*$/;

export function parseNewest(body: string, where: string): { version: string; released: string } {
  const match = newestLine.exec(body.trim());
  if (!match) throw new CveError('CVE_ERR_SOURCE_PROTOCOL', `${where}: not "<version> <unix time>": ${body.trim().slice(0, 60)}`);
  return { version: match[1] as string, released: new Date(Number(match[2]) * 1000).toISOString() };
}

/** MikroTik's newest RouterOS per channel: all four fetched and checked, then written together. */
export function createRouterosSource(url: string = defaultRouterosUrl): FeedSource {
  return {
    name: 'routeros',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const kit = createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) });
      const releases: { channel: string; version: string; released: string }[] = [];
      for (const channel of routerosChannels) {
        const target = `${url}/NEWESTa7.${channel}`;
        const body = await kit.fetchBody(target, context.signal);
        releases.push({ channel, ...parseNewest(body.toString('utf8'), target) });
      }
      const checkedAt = context.clock.now().toISOString();
      const previous = db.prepare<[string], { version: string }>('SELECT version FROM routeros_releases WHERE channel = ?');
      const upsert = db.prepare('INSERT OR REPLACE INTO routeros_releases (channel, version, released, checked_at) VALUES (?, ?, ?, ?)');
      let changed = 0;
      db.transaction(() => {
        for (const release of releases) {
          if (previous.get(release.channel)?.version !== release.version) changed++;
          upsert.run(release.channel, release.version, release.released, checkedAt);
        }
      })();
      return { source: 'routeros', changed, dataAsOf: checkedAt };
    },
  };
}

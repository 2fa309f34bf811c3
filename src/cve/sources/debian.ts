import type { Db } from '../../shared/sqlite.js';
import { isVerdictPackage } from '../distro/banner-tag.js';
import { debianTrackerRows } from '../distro/debian-tracker.js';
import { createFetchKit } from './http.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';
import { applyTrackerRows } from './tracker-source.js';

/**
 * The Debian security tracker's `data/` directory: `CVE/list`, `DSA/list` and `DLA/list` are read
 * from `<url>/CVE/list` etc. (the tracker's own text files, the format its JSON export is built from).
 */
export const defaultDebianUrl = 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data';

/** Debian's verdicts for bookworm, bullseye and trixie: all three lists fetched, then the debian rows replaced at once. */
export function createDebianSource(url: string = defaultDebianUrl): FeedSource {
  return {
    name: 'debian',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const kit = createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) });
      const text: Record<'cve' | 'dsa' | 'dla', string> = { cve: '', dsa: '', dla: '' };
      for (const list of ['CVE', 'DSA', 'DLA'] as const) {
        text[list.toLowerCase() as 'cve' | 'dsa' | 'dla'] = (await kit.fetchBody(`${url}/${list}/list`, context.signal)).toString('utf8');
      }
      const { changed } = await applyTrackerRows(db, context, 'debian', url, () => debianTrackerRows(text, (pkg) => isVerdictPackage('debian', pkg)));
      return { source: 'debian', changed, dataAsOf: context.clock.now().toISOString() };
    },
  };
}

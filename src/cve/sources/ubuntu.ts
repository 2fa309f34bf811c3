import type { Db } from '../../shared/sqlite.js';
import { ubuntuTrackerRows } from '../distro/ubuntu-tracker.js';
import { isVerdictPackage } from '../distro/banner-tag.js';
import { createFetchKit } from './http.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';
import { applyTrackerRows } from './tracker-source.js';

/**
 * A gzipped tar snapshot of the Ubuntu CVE Tracker repository (cgit's snapshot of the master
 * branch; a mirror makes the same file with `git archive --format=tar.gz HEAD`).
 */
export const defaultUbuntuUrl = 'https://git.launchpad.net/ubuntu-cve-tracker/snapshot/ubuntu-cve-tracker-master.tar.gz';

/** Ubuntu's verdicts for every release codename: the snapshot read whole, then the ubuntu rows replaced at once. */
export function createUbuntuSource(url: string = defaultUbuntuUrl): FeedSource {
  return {
    name: 'ubuntu',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const body = await createFetchKit({ clock: context.clock, ...(context.fetch ? { fetch: context.fetch } : {}) }).fetchBody(url, context.signal);
      const { changed } = await applyTrackerRows(
        db,
        context,
        'ubuntu',
        url,
        async () => (await ubuntuTrackerRows(body, (pkg) => isVerdictPackage('ubuntu', pkg))).rows,
      );
      return { source: 'ubuntu', changed, dataAsOf: context.clock.now().toISOString() };
    },
  };
}

import type { Db } from '../../shared/sqlite.js';
import { createCveStore } from '../cve-store.js';
import { createNvdClient, nvdCveApiUrl } from '../nvd-client.js';
import { updateFeed } from '../update.js';
import type { FeedSource, SourceContext, SourceRunResult } from './source.js';

/** A record the hub can keep: one the importer may take (its own checks skip the rest with a log line). */
function isKeepable(raw: unknown): raw is { id: string; lastModified: string } {
  const record = raw as { id?: unknown; lastModified?: unknown } | null;
  return typeof record === 'object' && record !== null && typeof record.id === 'string' && typeof record.lastModified === 'string';
}

/**
 * NVD CVE API 2.0 as a source: the incremental update of update.ts (lastMod windows of at most
 * 120 days, resultsPerPage paging, a resume cursor stored with each page) and the NVD client's
 * published rate limits with or without an API key.
 */
export function createNvdSource(url: string = nvdCveApiUrl, apiKey?: string, resultsPerPage?: number): FeedSource {
  return {
    name: 'nvd',
    url,
    async run(db: Db, context: SourceContext): Promise<SourceRunResult> {
      const client = createNvdClient({
        logger: context.logger,
        clock: context.clock,
        baseUrl: url,
        apiKey,
        ...(context.fetch ? { fetch: context.fetch } : {}),
      });
      const result = await updateFeed({
        store: createCveStore(db),
        client,
        clock: context.clock,
        logger: context.logger,
        signal: context.signal,
        ...(resultsPerPage === undefined ? {} : { resultsPerPage }),
        ...(context.keepRawRecords ? { withinPage: (raws: readonly unknown[]) => context.keepRawRecords?.(raws.filter(isKeepable)) } : {}),
      });
      const { inserted, updated, removed } = result.counts;
      return { source: 'nvd', changed: inserted + updated + removed, dataAsOf: result.dataAsOf };
    },
  };
}

/**
 * The demo control plane's feed hub upstreams on loopback: a recorded NVD CVE API serving the
 * real records the agent's starter feed is built from, and CISA KEV / FIRST EPSS as published
 * (../shared/data). Each source runs once at start (their cron is once a year), so the console's
 * CVE pages show NVD scores, KEV and EPSS, and sites report a real feed version.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ControlPlane } from '../../src/control-plane/main.js';
import { startNvdServer } from '../integration/cve/nvd-server.js';
import { startFeedServer, sharedData } from '../simulators/feed-server.js';
import { allRealRecords } from '../unit/cve/fixtures.js';

const YEARLY = '0 0 1 1 *';

export interface DemoFeeds {
  /** The control plane's `feeds:` section, pointing at the simulators. */
  config: Record<string, unknown>;
  /** Runs each source once (a feed version for the agents); returns a progress line. */
  runAll(cp: ControlPlane): Promise<string>;
  close(): Promise<void>;
}

export async function startDemoFeeds(host: string): Promise<DemoFeeds> {
  const nvd = await startNvdServer({ records: allRealRecords(), host });
  const files = await startFeedServer(host);
  const kevFile = path.join(sharedData, 'kev/known_exploited_vulnerabilities.json');
  // The EPSS subset (the scores of the CVEs the data set knows), gzipped as FIRST serves it: the full file is 200k rows.
  const epssFile = path.join(sharedData, 'epss/epss_scores-2024-01-13.subset.csv');
  const withIntel = existsSync(kevFile) && existsSync(epssFile);
  if (withIntel) {
    files.serve('/kev.json', readFileSync(kevFile));
    files.serve('/epss.csv.gz', gzipSync(readFileSync(epssFile)));
  }
  const off = { enabled: false };
  return {
    config: {
      sources: {
        nvd: { url: nvd.url, schedule: YEARLY },
        kev: withIntel ? { url: `${files.url}/kev.json`, schedule: YEARLY } : off,
        epss: withIntel ? { url: `${files.url}/epss.csv.gz`, schedule: YEARLY } : off,
        debian: off,
        ubuntu: off,
        routeros: off,
      },
    },
    async runAll(cp) {
      const hub = cp.feeds?.hub;
      if (!hub) return 'control plane without a feed hub';
      const names = withIntel ? ['nvd', 'kev', 'epss'] : ['nvd'];
      let version: number | undefined;
      for (const name of names) version = (await hub.runSource(name))?.version ?? version;
      return `feed hub imported ${names.join(', ')} from simulators on ${host} (feed version ${String(version)})`;
    },
    async close() {
      await Promise.all([nvd.close(), files.close()]);
    },
  };
}

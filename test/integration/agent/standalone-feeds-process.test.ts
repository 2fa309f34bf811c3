import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { runCli, startAgentProcess } from '../../helpers/agent-process.js';
import { captureLogger } from '../../helpers/logger.js';
import { startNotifyListener } from '../../helpers/notify-listener.js';
import { tempDir } from '../../helpers/temp.js';
import { realDebianLists, realKevJson, startFeedServer } from '../../simulators/feed-server.js';
import { startNvdServer } from '../cve/nvd-server.js';
import { allRealRecords } from '../../unit/cve/fixtures.js';

describe('a standalone agent process keeps its CVE data current by itself', () => {
  it("after start, holds the KEV catalog, the Debian tracker rows and today's NVD data, and feed status says so", async () => {
    const feeds = await startFeedServer('127.0.71.1');
    onTestFinished(() => feeds.close());
    const nvd = await startNvdServer({ records: allRealRecords(), host: '127.0.71.2' });
    onTestFinished(() => nvd.close());
    const lists = realDebianLists();
    feeds.serve('/kev.json', realKevJson());
    feeds.serve('/debian/data/CVE/list', lists.cve);
    feeds.serve('/debian/data/DSA/list', lists.dsa);
    feeds.serve('/debian/data/DLA/list', lists.dla);

    const dir = tempDir('standalone-feeds-');
    const state = path.join(dir, 'state');
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        site_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        subnets: ['127.0.71.0/28'],
        // No control_plane: this agent is on its own.
        feed: {
          max_age_days: 5,
          self_update: true,
          catch_up_after: '0s',
          sources: {
            nvd: { url: nvd.url },
            kev: { url: `${feeds.url}/kev.json` },
            debian: { url: `${feeds.url}/debian/data` },
            epss: { enabled: false },
            ubuntu: { enabled: false },
            routeros: { enabled: false },
          },
        },
      }),
      { mode: 0o600 },
    );
    const notify = await startNotifyListener();
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', state], { NOTIFY_SOCKET: notify.address });
    await agent.waitForLog('agent ready');
    for (const source of ['nvd', 'kev', 'debian']) await agent.waitForLog(new RegExp(`^feed source ${source} updated: `), 60_000);
    expect(agent.logs.filter((line) => /^feed source /.test(String(line.msg)))).toHaveLength(3);
    // The status line follows: the starter feed's age at READY, today's data after the NVD run.
    expect(notify.received.find((d) => d.data.includes('READY=1'))?.data).toMatch(/CVE data: 78 CVEs, \d+ day\(s\) old \(stale\)/);
    await notify.waitFor((all) => all.some((d) => /^STATUS=.*CVE data: \d+ CVEs, 0 day\(s\) old$/m.test(d.data)));

    const kevCount = (JSON.parse(realKevJson().toString('utf8')) as { count: number }).count;
    const cveDb = openCveDatabase({ stateDir: state, logger: captureLogger().logger });
    try {
      expect(cveDb.db.prepare('SELECT count(*) AS n FROM kev').get()).toEqual({ n: kevCount });
      expect(
        cveDb.db
          .prepare("SELECT status, fixed_version, ref FROM distro_status WHERE distro = 'debian' AND release = 'bookworm' AND cve_id = 'CVE-2024-6387'")
          .get(),
      ).toEqual({
        status: 'fixed',
        fixed_version: '1:9.2p1-2+deb12u3',
        ref: 'DSA-5724-1',
      });
    } finally {
      cveDb.close();
    }

    const today = new Date().toISOString().slice(0, 10);
    const json = await runCli(['--config', config, '--data-dir', state, '--json', 'feed', 'status']);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as {
      freshness: { data_as_of: string; age_days: number; stale: boolean; max_age_days: number; warning: string | null };
      self_update: string;
      sources: { source: string; last_ok_at: string; age_days: number; error: string | null }[];
    };
    expect(status.freshness).toMatchObject({ age_days: 0, stale: false, max_age_days: 5, warning: null });
    expect(status.freshness.data_as_of.slice(0, 10)).toBe(today);
    expect(status.self_update).toMatch(/^on: nvd \(0 \*\/2 \* \* \*\), kev \(30 3 \* \* \*\), debian \(0 4 \* \* \*\)$/);
    expect(status.sources.map((s) => [s.source, s.last_ok_at.slice(0, 10), s.age_days, s.error])).toEqual([
      ['nvd', today, 0, null],
      ['kev', today, 0, null],
      ['debian', today, 0, null],
    ]);

    const text = await runCli(['--config', config, '--data-dir', state, 'feed', 'status']);
    expect(text.stdout).toContain('age:             0 day(s) (max 5 day(s))');
    expect(text.stdout).toContain(`data as of:      ${today}`);
    expect(text.stdout).toMatch(new RegExp(`source kev\\s+0 day\\(s\\) ago \\(${today}T`));
    expect(text.stderr).toBe('');

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });
});

import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent } from '../../../src/agent/agent.js';
import { buildConfig } from '../../../src/agent/config/load.js';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { applyDelta } from '../../../src/cve/delta.js';
import { importBatch } from '../../../src/cve/import.js';
import { createSdNotifier } from '../../../src/shared/sd-notify.js';
import { startFakeService } from '../../helpers/fake-services.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { allRealRecords, realRecord } from '../../unit/cve/fixtures.js';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { startHookReceiver } from '../control-plane/alert-site.js';
import { startHarness, WEBHOOK_SECRET } from '../control-plane/harness.js';
import { createSchedule, eventually } from './site.js';

const net = 146;
const arriving = 'CVE-2023-51385';

interface Summary {
  id: string;
  status: string;
  origin: string;
  trigger: string | null;
}

describe('re-match through a real control plane', () => {
  it("a delta applied to the agent's cve.db reaches the control plane as a re-match run with the new finding, once, and finding.new goes out with no packet sent", async () => {
    const hook = await startHookReceiver(`127.0.${net}.3`);
    onTestFinished(() => hook.close());
    const cp = await startHarness({ webhooks: [hook.url], config: { listen: { host: `127.0.${net}.1`, port: 0 } } });
    onTestFinished(() => cp.stop());
    /** The signed change alerts the receiver got about `cve`. */
    const alertsOf = (cve: string) =>
      hook.received.flatMap((r) => {
        expect(verifySignature(r.body, WEBHOOK_SECRET, r.signature)).toBe(true);
        const alert = JSON.parse(r.body) as { event: string; data: { cve?: { id: string }; origin?: string; device?: { ip: string } } };
        return alert.data.cve?.id === cve ? [alert] : [];
      });
    const site = await cp.addSite();
    const ssh = await startFakeService({ host: `127.0.${net}.2`, port: 2222, greeting: 'SSH-2.0-OpenSSH_7.4\r\n' });
    onTestFinished(() => ssh.close());
    const stateDir = tempDir('rematch-agent-');
    const { logger } = captureLogger('warn');
    // The site's cve.db holds the real records but the one the delta brings.
    const seeded = openCveDatabase({ stateDir, logger });
    importBatch(
      seeded.store,
      allRealRecords().filter((record) => record.id !== arriving),
      { source: 'test', logger },
    );
    seeded.close();
    const { config } = buildConfig(
      {
        site_id: site.id,
        subnets: [`127.0.${net}.0/24`],
        scan: { ports: '2222', udp: false },
        control_plane: { url: cp.url.replace(/^http/, 'ws'), token: site.token },
      },
      undefined,
      { env: {}, dataDir: stateDir },
    );
    const agent = createAgent({
      config,
      logger,
      notifier: createSdNotifier({ env: {}, logger }),
      tickSeconds: 1,
      uplink: { backoff: { initialMs: 50, maxMs: 400, factor: 2 }, window: 8, pollMs: 50 },
    });
    onTestFinished(async () => {
      await agent.stop();
    });
    await agent.start();
    await eventually('the uplink to connect', () => agent.uplink?.connected);

    const scheduleId = await createSchedule(cp, site.id, net);
    const scanId = ((await cp.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    await eventually('the scan to finish', async () => {
      const body = (await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string };
      return body.status === 'completed' ? body : undefined;
    });

    // From here on the scanned host must hear nothing: the re-match judges what is stored.
    const connectionsBefore = ssh.connections();
    expect(connectionsBefore).toBeGreaterThan(0);

    // The data arrives as the uplink applies a pushed delta: in cve.db, in one transaction.
    const cveDb = openCveDatabase({ stateDir, logger });
    applyDelta(
      cveDb.db,
      {
        header: { format: 'edge-cve-delta/1', from: 0, to: 1, created_at: new Date().toISOString(), data_as_of: {}, replace: [] },
        lines: [{ t: 'nvd', record: realRecord(arriving) }],
      },
      logger,
    );
    cveDb.close();

    // The daemon notices it (5 s look, 5 s quiet) and its re-match reaches the control plane.
    const rematch = await eventually(
      'a completed re-match at the control plane',
      async () => {
        const runs = (await cp.request('GET', '/scans/cve?origin=re-match')).body as Summary[];
        return runs.find((run) => run.status === 'completed');
      },
      45_000,
    );
    expect(rematch).toMatchObject({ origin: 're-match', trigger: 'feed delta 0→1: 1 CVEs added' });
    const report = (await cp.request('GET', `/scans/cve/${rematch.id}/report.json`)).body as { cves: { cve_id: string; host: { ip_address: string } }[] };
    expect(report.cves.filter((cve) => cve.cve_id === arriving && cve.host.ip_address === `127.0.${net}.2`)).toHaveLength(1);
    // The scan before it did not have it; one re-match only.
    const before = (await cp.request('GET', `/scans/cve/${scanId}/report.json`)).body as typeof report;
    expect(before.cves.map((cve) => cve.cve_id)).not.toContain(arriving);
    expect(((await cp.request('GET', '/scans/cve?origin=re-match')).body as Summary[]).length).toBe(1);

    // The operator hears of it once, as a new finding on that device, from the re-match.
    await cp.cp.notifier.idle();
    await expect.poll(() => alertsOf(arriving).length, { timeout: 10_000, interval: 100 }).toBe(1);
    expect(alertsOf(arriving)[0]).toMatchObject({ event: 'finding.new', data: { origin: 're-match', device: { ip: `127.0.${net}.2` } } });
    expect(ssh.connections()).toBe(connectionsBefore);
  }, 90_000);
});

import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent } from '../../../src/agent/agent.js';
import { buildConfig } from '../../../src/agent/config/load.js';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { createSdNotifier } from '../../../src/shared/sd-notify.js';
import { scanReport } from '../../../src/control-plane/api/shapes.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { startHarness } from '../control-plane/harness.js';
import { fixFirstMacs, fixFirstPorts, loadRealIntel, startFixFirstSite } from '../pipeline/fix-first-site.js';
import { createSchedule, eventually } from './site.js';

const net = 67;

interface Instance {
  cve_id: string;
  host: { ip_address: string };
  priority_rank?: number;
  kev?: { date_added: string } | null;
  epss?: { score: number } | null;
  exposure?: { state: string; reasons: { kind: string; detail: string }[] };
  distro?: { status: string; fixed_version: string | null; ref: string };
  why?: string[];
}

describe('fix-first facts from a real agent through the control plane', () => {
  it('stores them, counts no patched CVE, and serves report.json fix-first with the facts as additive fields', async () => {
    const cp = await startHarness({ config: { listen: { host: `127.0.${net}.1`, port: 0 } } });
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const { routerPort } = await startFixFirstSite(net);
    const stateDir = tempDir('fix-first-agent-');
    const { logger } = captureLogger('warn');
    // The agent's cve.db: the starter feed and tracker rows, plus the real KEV catalog and EPSS snapshot.
    const cveDb = openCveDatabase({ stateDir, logger, loadStarterFeed: true });
    loadRealIntel(cveDb.db);
    cveDb.close();
    const { config } = buildConfig(
      {
        site_id: site.id,
        subnets: [`127.0.${net}.0/24`],
        router: { host: `127.0.${net}.1`, port: routerPort, user: 'edge-cve', password: 'router-secret' },
        scan: { ports: fixFirstPorts, udp: false },
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
    const summary = await eventually('the scan to finish', async () => {
      const body = (await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string; cve_count: number };
      return ['completed', 'partial', 'failed'].includes(body.status) ? body : undefined;
    });
    expect(summary.status).toBe('completed');

    const response = await cp.request('GET', `/scans/cve/${scanId}/report.json`);
    expect(response.status).toBe(200);
    // The served shape stays the API's (strict: every additive field is declared).
    expect(scanReport.safeParse(response.body).error).toBeUndefined();
    const report = response.body as { cves: Instance[]; warnings: Instance[]; patched: Instance[]; hosts: { ip_address: string; cve_count: number }[] };

    // The patched CVE is listed apart with its verdict, and counted nowhere.
    expect(report.patched).toContainEqual(
      expect.objectContaining({
        cve_id: 'CVE-2024-6387',
        host: expect.objectContaining({ ip_address: `127.0.${net}.2` }),
        distro: expect.objectContaining({ status: 'fixed', fixed_version: '1:9.2p1-2+deb12u3', ref: 'DSA-5724-1' }),
      }),
    );
    expect(report.cves.map((cve) => cve.cve_id)).not.toContain('CVE-2024-6387');
    expect(summary.cve_count).toBe(report.cves.length);
    expect(report.hosts.reduce((sum, host) => sum + host.cve_count, 0)).toBe(report.cves.length);

    // Fix-first: the router's KEV CVEs open through winbox first, the unexposed nginx last; each with why.
    expect(report.cves.map((cve) => cve.priority_rank)).toEqual(report.cves.map((_, index) => index + 1));
    expect(report.cves.slice(0, 2).map((cve) => cve.cve_id)).toEqual(['CVE-2018-14847', 'CVE-2018-7445']);
    expect(report.cves[0]).toMatchObject({
      kev: { date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false },
      epss: { score: 0.97473, percentile: 0.99963, date: '2024-01-13' },
      exposure: { state: 'yes', reasons: [expect.objectContaining({ kind: 'router-service' })] },
      why: expect.arrayContaining(['KEV since 2021-12-01', 'EPSS 0.97 (99th pct)']),
    });
    const openssh = report.cves.find((cve) => cve.cve_id === 'CVE-2023-38408')!;
    expect(openssh).toMatchObject({
      kev: null,
      distro: expect.objectContaining({ status: 'vulnerable' }),
      exposure: { state: 'yes', reasons: [{ kind: 'dstnat', detail: 'forwarded from WAN tcp/2222 by dstnat rule *2' }] },
    });
    const web = report.cves.filter((cve) => cve.host.ip_address === `127.0.${net}.3`);
    expect(web.length).toBeGreaterThan(0);
    expect(web.every((cve) => cve.exposure?.state === 'no')).toBe(true);
    expect(Math.min(...web.map((cve) => cve.priority_rank!))).toBeGreaterThan(
      Math.max(...report.cves.filter((cve) => cve.exposure?.state === 'yes').map((cve) => cve.priority_rank!)),
    );
    // By device too: the patched CVE is neither listed nor counted; the facts ride along.
    const device = await cp.request('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: [fixFirstMacs(net).ssh] } });
    expect(device.status).toBe(200);
    const byMac = device.body as { total_cve_instances: number; cves: Instance[] };
    expect(byMac.cves.map((cve) => cve.cve_id)).not.toContain('CVE-2024-6387');
    expect(byMac.total_cve_instances).toBe(byMac.cves.length);
    expect(byMac.cves.find((cve) => cve.cve_id === 'CVE-2023-38408')).toMatchObject({ exposure: { state: 'yes' }, epss: { score: 0.02999 } });
    // The warnings keep that order.
    expect(report.warnings.map((cve) => cve.priority_rank)).toEqual([...report.warnings.map((cve) => cve.priority_rank)].sort((a, b) => a! - b!));
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

interface Received {
  body: string;
  signature: string | undefined;
  deliveryId: string | undefined;
}

let h: Harness | undefined;
let receiver: Server | undefined;
let agent: SimulatedAgent | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  h = undefined;
  receiver = undefined;
  agent = undefined;
});

/**
 * A webhook receiver on loopback that answers the scan notifications with the given statuses in
 * turn (the last one repeats). The change alerts the scan's findings raise (a new device, new
 * findings: store/change-watch.ts) are answered 204 and left out of `received`.
 */
async function startReceiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  receiver = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (!body.startsWith('{"event":"scan.')) {
        response.statusCode = 204;
        response.end();
        return;
      }
      received.push({
        body,
        signature: request.headers['x-signature'] as string | undefined,
        deliveryId: request.headers['x-delivery-id'] as string | undefined,
      });
      response.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)] as number;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, received };
}

async function finishAScan(harness: Harness, withAgent: boolean): Promise<string> {
  const site = await harness.addSite();
  if (withAgent) {
    agent = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id });
    await agent.connect();
  }
  const created = await harness.request('POST', '/scans/cve/scheduled', {
    body: {
      description: 'd',
      day_of_week: 1,
      time_of_day: '01:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      notification_group: 'security-alerts',
      sites: [{ id: site.id, subnet: '192.168.88.0/24' }],
    },
  });
  const scheduleId = (created.body as { id: string }).id;
  const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
  if (agent) {
    const sim = agent;
    await sim.waitFor(() => sim.commands.some((c) => c.type === 'scan.invoke'));
    const command = sim.commands.find((c) => c.type === 'scan.invoke') as { sub_scan_id: string };
    const runId = newRunId();
    sim.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
    sim.report(host(runId, '192.168.88.2', '4C:5E:0C:00:00:02'));
    sim.report(finding(runId, '192.168.88.2', '4C:5E:0C:00:00:02', 'CVE-2018-14847', 9.1));
    sim.report(finding(runId, '192.168.88.2', '4C:5E:0C:00:00:02', 'CVE-2019-3976', 5.5));
    sim.report(finished(runId, 2));
    await sim.drained();
  }
  return scanId;
}

describe('webhook notifications', () => {
  it('POSTs a signed scan.completed to the group, retrying 5xx with backoff, and records the delivery', async () => {
    const hook = await startReceiver([500, 503, 204]);
    h = await startHarness({ webhooks: [hook.url] });
    const scanId = await finishAScan(h, true);
    await expect.poll(async () => (await h?.store.notifications.list(scanId))?.[0]?.status, { timeout: 5000, interval: 50 }).toBe('delivered');
    const [delivery] = await h.store.notifications.list(scanId);
    expect(delivery).toMatchObject({ attempts: 3, last_status: 204, url: hook.url, event: 'scan.completed' });
    expect(hook.received).toHaveLength(3);
    for (const request of hook.received) {
      expect(verifySignature(request.body, WEBHOOK_SECRET, request.signature)).toBe(true);
      expect(request.deliveryId).toBe(delivery?.id);
    }
    expect(verifySignature(hook.received[0]?.body as string, 'wrong-secret', hook.received[0]?.signature)).toBe(false);
    expect(JSON.parse(hook.received[0]?.body as string)).toEqual({
      event: 'scan.completed',
      timestamp: expect.any(String),
      data: {
        scan_id: scanId,
        scan_schedule_id: expect.any(String),
        status: 'completed',
        cve_count: 2,
        highest_score: 9.1,
        warnings: 1,
        report_url: `${h.url}/scans/cve/${scanId}/report.json`,
        // The simulated agent's scan.finished carries no coverage statement (as an agent before it).
        coverage: [{ site_id: expect.any(String), summary: null }],
      },
    });
  });

  it('gives up at once on a 4xx, and after max_attempts when the receiver is unreachable', async () => {
    const hook = await startReceiver([404]);
    h = await startHarness({ webhooks: [hook.url, 'http://127.0.0.1:1/unreachable'] });
    const scanId = await finishAScan(h, false);
    await expect
      .poll(async () => (await h?.store.notifications.list(scanId))?.map((d) => d.status).sort(), { timeout: 5000, interval: 50 })
      .toEqual(['failed', 'failed']);
    const deliveries = await h.store.notifications.list(scanId);
    const refused = deliveries.find((d) => d.url === hook.url);
    const unreachable = deliveries.find((d) => d.url !== hook.url);
    expect(refused).toMatchObject({ attempts: 1, last_status: 404, event: 'scan.failed' });
    expect(unreachable).toMatchObject({ attempts: 3, last_status: null, last_error: expect.stringContaining('fetch failed') });
    expect(hook.received).toHaveLength(1);
  });

  it('resumes pending deliveries after a restart', async () => {
    const hook = await startReceiver([503]);
    h = await startHarness({
      webhooks: [hook.url],
      config: { notifications: { max_attempts: 50, backoff_initial_seconds: 0.05, backoff_max_seconds: 0.1, timeout_seconds: 2 } },
    });
    const scanId = await finishAScan(h, false);
    await expect.poll(() => hook.received.length, { timeout: 5000 }).toBeGreaterThan(1);
    const dir = h.dir;
    await h.stop();
    const before = hook.received.length;
    const server = receiver;
    server?.removeAllListeners('request');
    server?.on('request', (_req: IncomingMessage, res) => {
      hook.received.push({ body: '', signature: undefined, deliveryId: undefined });
      res.statusCode = 200;
      res.end();
    });
    h = await startHarness({ dir, webhooks: [hook.url] });
    await expect.poll(async () => (await h?.store.notifications.list(scanId))?.[0]?.status, { timeout: 5000, interval: 50 }).toBe('delivered');
    expect(hook.received.length).toBe(before + 1);
  });
});

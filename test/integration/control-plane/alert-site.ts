/**
 * What the finding-alert tests share: a webhook receiver on a loopback address, a site with a
 * simulated agent and a schedule that notifies `security-alerts`, and one scan of it reporting
 * the findings a test gives, waited for until completed and its notifications are sent.
 */
import { createServer } from 'node:http';
import { expect } from 'vitest';
import { finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent, type ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import type { Harness } from './harness.js';

export interface HookReceiver {
  url: string;
  received: { body: string; signature: string | undefined }[];
  close(): Promise<void>;
}

export async function startHookReceiver(address: string): Promise<HookReceiver> {
  const received: HookReceiver['received'] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ body, signature: request.headers['x-signature'] as string | undefined });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return {
    url: `http://${address}:${(server.address() as { port: number }).port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A new site with a connected simulated agent, and a schedule of it that notifies `security-alerts`. */
export async function alertSite(harness: Harness, description: string): Promise<{ agent: SimulatedAgent; scheduleId: string }> {
  const site = await harness.addSite();
  const agent = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id });
  await agent.connect();
  const created = await harness.request('POST', '/scans/cve/scheduled', {
    body: {
      description,
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
  return { agent, scheduleId: (created.body as { id: string }).id };
}

/** Invokes the schedule, reports one host with `findings(runId)`, and waits for the scan and its notifications. */
export async function scanWith(
  harness: Harness,
  sim: SimulatedAgent,
  scheduleId: string,
  device: { ip: string; mac: string },
  findings: (runId: string) => ReportInput[],
): Promise<string> {
  const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
  const isThis = (c: { type: string }) => c.type === 'scan.invoke' && (c as { scan_id?: string }).scan_id === scanId;
  await sim.waitFor(() => sim.commands.some(isThis));
  const command = sim.commands.find(isThis) as unknown as { sub_scan_id: string };
  const runId = newRunId();
  const reported = findings(runId);
  sim.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
  sim.report(host(runId, device.ip, device.mac));
  for (const report of reported) sim.report(report);
  sim.report(finished(runId, reported.length));
  await sim.drained();
  await expect
    .poll(async () => (await harness.request('GET', `/scans/cve/${scanId}`)).body, { timeout: 5000, interval: 50 })
    .toMatchObject({ status: 'completed' });
  await harness.cp.notifier.idle();
  return scanId;
}

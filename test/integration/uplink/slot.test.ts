import { describe, expect, it, onTestFinished } from 'vitest';
import { startHarness } from '../control-plane/harness.js';
import { createSchedule, eventually, startServices, startSiteAgent } from './site.js';

const net = 38;

describe('a schedule pushed by the control plane fires on its slot', () => {
  it('the agent fires the slot the control plane computed, and its run merges into the control plane scan of that slot', async () => {
    let now = new Date();
    const clock = { now: () => new Date(now.getTime()) };
    const cp = await startHarness({ clock });
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const { routerPort } = await startServices(net);
    const agent = await startSiteAgent({ siteId: site.id, token: site.token, url: cp.url, routerPort, net, clock });
    const scheduleId = await createSchedule(cp, site.id, net);
    const armed = await eventually(
      'the schedule to be armed',
      () => agent.query<{ next_scan_at: string }>('SELECT next_scan_at FROM schedules WHERE id = ?', scheduleId)[0],
    );
    const slot = new Date(armed.next_scan_at);
    // Both ends jump to just after the slot: the agent's scheduler fires it, the control plane opens the slot's scan.
    now = new Date(slot.getTime() + 1000);
    const [scan] = await eventually(
      'the slot scan to finish on the control plane',
      async () => {
        const scans = await cp.store.scans.list('org-a', scheduleId);
        return scans.length > 0 && ['completed', 'partial', 'failed'].includes(scans[0]!.status) ? scans : undefined;
      },
      25_000,
    );
    expect(scan).toMatchObject({ status: 'completed' });
    expect(await cp.store.scans.list('org-a', scheduleId)).toHaveLength(1);
    const local = agent.query<{ kind: string; slot_at: string }>('SELECT kind, slot_at FROM scans WHERE schedule_id = ?', scheduleId);
    expect(local).toEqual([{ kind: 'schedule', slot_at: slot.toISOString() }]);
    const findings = await cp.store.scans.findings(scan!.id);
    expect(findings.map((f) => f.cve.id)).toContain('CVE-2023-38408');
  });
});

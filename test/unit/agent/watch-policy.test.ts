import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { inScope } from '../../../src/shared/ipv4.js';
import type { WatchChange } from '../../../src/agent/routeros/index.js';
import { TriggerPolicy, type TriggerPolicyDeps, type WatchScanRequest } from '../../../src/agent/watch/trigger-policy.js';
import { ManualTimers } from '../../integration/uplink/manual-timers.js';

const scope = ['10.0.0.0/24', '10.0.1.0/24'];
const hostChange = (ip: string, mac = '02:00:00:00:00:01'): WatchChange => ({ kind: 'host', reason: 'new-mac', mac, ip, table: 'leases' });

function policy(overrides: Partial<TriggerPolicyDeps> = {}) {
  const timers = new ManualTimers();
  const started: (WatchScanRequest & { at: number })[] = [];
  const asked: string[] = [];
  const subject = new TriggerPolicy({
    clock: { now: () => new Date(timers.now()) },
    timers,
    logger: pino({ level: 'silent' }),
    debounceMs: 5000,
    maxPerMinute: 10,
    scope: () => scope,
    mayScanNow: (ip) => {
      asked.push(ip);
      return true;
    },
    routerIp: () => '10.0.0.1',
    start: (request) => started.push({ ...request, at: timers.now() }),
    ...overrides,
  });
  return { subject, timers, started, asked };
}

describe('the watch trigger policy', () => {
  it('starts a micro-scan of a changed host after the debounce, well within 30 s, once for a burst of rows about it', () => {
    const { subject, timers, started } = policy();
    subject.offer(hostChange('10.0.0.7'));
    timers.advance(2000);
    subject.offer({ kind: 'host', reason: 'new-ip', mac: '02:00:00:00:00:01', ip: '10.0.0.7', table: 'arp' });
    timers.advance(2999);
    expect(started).toEqual([]);
    timers.advance(1);
    expect(started).toEqual([
      {
        ips: ['10.0.0.7'],
        subnets: ['10.0.0.0/24'],
        withRouter: false,
        trigger: 'new-mac 02:00:00:00:00:01 at 10.0.0.7 (leases); new-ip 02:00:00:00:00:01 at 10.0.0.7 (arp)',
        at: 5000,
      },
    ]);
    expect((started[0] as { at: number }).at).toBeLessThanOrEqual(30_000);
    timers.advance(60_000);
    expect(started).toHaveLength(1);
  });

  it('caps a flood of 1,000 lease changes in a minute at the configured rate, and never asks for an address outside the scope', () => {
    const { subject, timers, started, asked } = policy();
    // 1,000 changes over one minute: half inside the scope (10.0.0-1.x), half outside (10.0.2-3.x).
    for (let i = 0; i < 1000; i += 1) {
      subject.offer(
        hostChange(
          `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
          `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        ),
      );
      timers.advance(60);
    }
    expect(subject.stats.outOfScope).toBe(500);
    timers.advance(5000);
    // One minute's worth: the cap.
    const inFirstMinute = started.filter((request) => request.at < 60_000);
    expect(inFirstMinute).toHaveLength(10);
    timers.advance(120_000);
    const perMinute = new Map<number, number>();
    for (const request of started) perMinute.set(Math.floor(request.at / 60_000), (perMinute.get(Math.floor(request.at / 60_000)) ?? 0) + 1);
    for (const [minute, count] of perMinute) expect(count, `minute ${minute}`).toBeLessThanOrEqual(10);
    // Every start (and every window check) was inside the scope; the rest wait their turn.
    expect(started.every((request) => request.ips.every((ip) => inScope(ip, scope)))).toBe(true);
    expect(asked.every((ip) => inScope(ip, scope))).toBe(true);
    expect(subject.waiting).toBe(500 - started.length);
    subject.stop();
  });

  it('waits while the scan window is closed and starts when it opens', () => {
    let open = false;
    const { subject, timers, started } = policy({ mayScanNow: () => open });
    subject.offer(hostChange('10.0.1.9'));
    timers.advance(5000);
    expect(started).toEqual([]);
    expect(subject.stats.deferred).toBe(1);
    open = true;
    timers.advance(60_000);
    expect(started.map((request) => request.ips)).toEqual([['10.0.1.9']]);
  });

  it('re-judges from the router data: a neighbor on its address in scope, else the router; the router on its own address', () => {
    const { subject, timers, started } = policy();
    subject.offer({ kind: 'neighbor-version', mac: '48:A9:8A:01:02:03', ip: '10.0.1.40', identity: 'ap', from: '6.45.1', to: '6.49.7' });
    subject.offer({ kind: 'neighbor-version', mac: '48:A9:8A:01:02:04', ip: '192.168.9.9', identity: 'far', from: '6.45.1', to: '6.49.7' });
    subject.offer({ kind: 'router-version', from: '7.4 (stable)', to: '7.5 (stable)' });
    timers.advance(5000);
    expect(started.map(({ ips, withRouter }) => ({ ips, withRouter }))).toEqual([
      { ips: ['10.0.1.40'], withRouter: true },
      { ips: ['10.0.0.1'], withRouter: true },
    ]);
    expect(started[1]?.trigger).toBe('neighbor far RouterOS 6.45.1 -> 6.49.7; router RouterOS 7.4 (stable) -> 7.5 (stable)');
  });

  it('does not re-judge when neither the neighbor nor the router lies in the scope', () => {
    const { subject, timers, started } = policy({ routerIp: () => '172.16.0.1' });
    subject.offer({ kind: 'router-version', from: '7.4 (stable)', to: '7.5 (stable)' });
    timers.advance(60_000);
    expect(started).toEqual([]);
    expect(subject.stats.unaddressed).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { LiveBus, type LiveMessage } from '../../../src/control-plane/console/live-bus.js';

const site = (id: string) => ({ type: 'site' as const, site_id: id, online: true, at: '2030-01-01T00:00:00.000Z' });

describe('LiveBus', () => {
  it('numbers messages from its base and hands each to its organization only', () => {
    const bus = new LiveBus({ base: 100 });
    const a: LiveMessage[] = [];
    const b: LiveMessage[] = [];
    bus.subscribe('org-a', undefined, (m) => a.push(m));
    bus.subscribe('org-b', undefined, (m) => b.push(m));
    bus.publish('org-a', site('s1'));
    bus.publish('org-b', site('s2'));
    bus.publish('org-a', site('s3'));
    expect(a.map((m) => [m.cursor, m.type === 'site' && m.site_id])).toEqual([
      [101, 's1'],
      [103, 's3'],
    ]);
    expect(b.map((m) => m.cursor)).toEqual([102]);
    expect(bus.cursor).toBe(103);
  });

  it("replays the organization's messages after since while the ring holds them all, else asks for a resync", () => {
    const bus = new LiveBus({ base: 0, capacity: 3 });
    for (const id of ['s1', 's2', 's3']) bus.publish(id === 's2' ? 'org-b' : 'org-a', site(id));
    const within = bus.subscribe('org-a', 0, () => undefined);
    expect(within.cursor).toBe(0);
    expect(within.replay).toEqual([
      { ...site('s1'), cursor: 1 },
      { ...site('s3'), cursor: 3 },
    ]);
    expect(bus.subscribe('org-a', 3, () => undefined).replay).toEqual([]);
    bus.publish('org-a', site('s4'));
    // Message 1 was overwritten: a page at 0 missed it.
    expect(bus.subscribe('org-a', 0, () => undefined)).toMatchObject({ replay: 'resync', cursor: 4 });
    expect(bus.subscribe('org-a', 1, () => undefined).replay).toEqual([
      { ...site('s3'), cursor: 3 },
      { ...site('s4'), cursor: 4 },
    ]);
    // A cursor from another process: ahead of this one, or below its base.
    expect(bus.subscribe('org-a', 99, () => undefined).replay).toBe('resync');
    expect(new LiveBus({ base: 50 }).subscribe('org-a', 10, () => undefined).replay).toBe('resync');
  });

  it('stops handing messages to a subscription that ended', () => {
    const bus = new LiveBus();
    const got: LiveMessage[] = [];
    const subscription = bus.subscribe('org-a', undefined, (m) => got.push(m));
    expect(bus.subscribers).toBe(1);
    subscription.unsubscribe();
    bus.publish('org-a', site('s1'));
    expect(got).toEqual([]);
    expect(bus.subscribers).toBe(0);
  });

  it('starts after any cursor an earlier process handed out', () => {
    const before = Date.now() * 1000;
    expect(new LiveBus().cursor).toBeGreaterThanOrEqual(before);
  });
});

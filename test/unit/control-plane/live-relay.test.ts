/**
 * The console's live feed and the notifier's wake-ups across nodes: what one node's publisher
 * produces reaches another node's bus once (a scan's state read from the store there), and a
 * node never gets its own messages back. Two publishers share one in-process transport, standing
 * for the database two nodes share (the PostgreSQL transport is tested in test/integration/postgres).
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveBus, type LiveMessage } from '../../../src/control-plane/console/live-bus.js';
import { LivePublisher } from '../../../src/control-plane/console/live-publisher.js';
import { clusterWake } from '../../../src/control-plane/notify/cluster-wake.js';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import { sqliteSignals } from '../../../src/control-plane/store/sqlite/signals.js';
import type { ClusterSignals, ControlPlaneStore } from '../../../src/control-plane/store/types.js';
import { tempDir } from '../../helpers/temp.js';

const logger = pino({ level: 'silent' });
const clock = { now: () => new Date('2026-01-05T07:00:00.000Z') };
const at = clock.now().toISOString();
let store: ControlPlaneStore | undefined;
const publishers: LivePublisher[] = [];
afterEach(async () => {
  for (const publisher of publishers.splice(0)) await publisher.stop();
  await store?.close();
  store = undefined;
});

function node(nodeId: string, shared: ControlPlaneStore, signals: ClusterSignals) {
  const bus = new LiveBus();
  const heard: LiveMessage[] = [];
  bus.subscribe('org-a', undefined, (message) => heard.push(message));
  const publisher = new LivePublisher({ bus, store: shared, clock, logger, cluster: { signals, nodeId } });
  publisher.start();
  publishers.push(publisher);
  return { publisher, heard };
}

describe('live feed across nodes', () => {
  it("carries presence, events and a scan's state (read from the store on the receiving node) to the other node, once", async () => {
    store = openSqliteStore({ stateDir: tempDir('relay-'), logger, ingestThread: false });
    const signals = { ...store.signals, clustered: true };
    const a = node('node-a', store, signals);
    const b = node('node-b', store, signals);
    const site = { id: 'site-1', org_id: 'org-a' };
    await store.scans.create(
      {
        scan: {
          id: 'scan-1',
          org_id: 'org-a',
          schedule_id: null,
          slot_at: null,
          kind: 'invoke',
          label: 'l',
          min_cvss: 0,
          warning_threshold: 7,
          ignore_offline_sites: false,
          notification_group: null,
          created_at: at,
        },
        subScans: [],
        events: [],
      },
      at,
    );
    a.publisher.presence(site, true);
    a.publisher.scanChanged({ org_id: 'org-a', scan_id: 'scan-1', at, events: [{ site_id: null, message: 'stop requested' }] });
    await a.publisher.idle();
    const types = (heard: LiveMessage[]) => heard.map((m) => m.type);
    await vi.waitFor(async () => {
      await b.publisher.idle();
      expect(types(b.heard)).toEqual(['site', 'event', 'scan']);
    });
    expect(types(a.heard)).toEqual(['site', 'event', 'scan']);
    const { cursor: _a, ...fromA } = a.heard[2] as LiveMessage;
    const { cursor: _b, ...onB } = b.heard[2] as LiveMessage;
    expect(onB).toEqual(fromA);
    expect(b.heard[0]).toMatchObject({ type: 'site', site_id: 'site-1', online: true });
    expect(b.heard[1]).toMatchObject({ type: 'event', scan_id: 'scan-1', message: 'stop requested' });
  });

  it("wakes the other nodes' notifiers, and its own once", () => {
    const signals = { ...sqliteSignals(), clustered: true };
    const woken = { a: 0, b: 0 };
    const a = clusterWake({ signals, nodeId: 'node-a', wake: () => (woken.a += 1), logger });
    const b = clusterWake({ signals, nodeId: 'node-b', wake: () => (woken.b += 1), logger });
    a.start();
    b.start();
    a.wake();
    expect(woken).toEqual({ a: 1, b: 1 });
    a.stop();
    b.stop();
  });
});

/**
 * The console's live relay over PostgreSQL: a burst of findings on one node reaches the other
 * node whole and in order, in NOTIFY payloads PostgreSQL accepts, and never comes back to its sender.
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { LiveRelay, type RelayItem } from '../../../src/control-plane/console/live-relay.js';
import { pgSignals } from '../../../src/control-plane/store/postgres/signals.js';
import { migratedDb } from './pg-kit.js';

const logger = pino({ level: 'silent' });

describe('live relay across two nodes on PostgreSQL', () => {
  it('carries a burst of 500 findings to the other node, all and in order', async () => {
    const { open } = await migratedDb({ migrate: false });
    const heard = { a: [] as RelayItem[], b: [] as RelayItem[] };
    const relay = (nodeId: 'a' | 'b') =>
      new LiveRelay({ signals: pgSignals(open(), logger), nodeId, logger, received: (items) => heard[nodeId].push(...items) });
    const [a, b] = [relay('a'), relay('b')];
    a.start();
    b.start();
    // LISTEN is set up in the background: a scan trigger sent until one is heard.
    await vi.waitFor(
      () => {
        a.send({ o: 'org-a', s: 'probe' });
        expect(heard.b.length).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 200 },
    );
    heard.b.length = 0;
    const findings: RelayItem[] = Array.from({ length: 500 }, (_, i) => ({
      o: 'org-a',
      p: {
        type: 'finding',
        scan_id: 'scan-1',
        site_id: 'site-1',
        mac_address: null,
        ip_address: `10.0.${i >> 8}.${i & 255}`,
        cve_id: `CVE-2024-${10000 + i}`,
        score: 7.5,
        severity: 'high',
      },
    }));
    for (const item of findings) a.send(item);
    await vi.waitFor(() => expect(heard.b.length).toBeGreaterThanOrEqual(500), { timeout: 20_000 });
    expect(heard.b.filter((item) => 'p' in item)).toEqual(findings);
    expect(heard.a).toEqual([]);
    await a.stop();
    await b.stop();
  });
});

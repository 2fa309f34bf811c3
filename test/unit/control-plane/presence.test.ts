/**
 * Agent presence across nodes: what one node's agents do is known on the others, a node that
 * starts learns the others' lists, and a node that died without a word stops counting after its lease.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClusterPresence } from '../../../src/control-plane/hub/presence.js';
import { sqliteSignals } from '../../../src/control-plane/store/sqlite/signals.js';

const logger = pino({ level: 'silent' });
let clock = 0;
const started: ClusterPresence[] = [];
afterEach(async () => {
  for (const presence of started.splice(0)) await presence.stop();
});

// One in-process transport stands for the database every node shares.
const signals = { ...sqliteSignals(), clustered: true };
function node(nodeId: string, local: string[] = []): ClusterPresence {
  const presence = new ClusterPresence({ signals, nodeId, local: () => local, refreshMs: 60_000, leaseMs: 1000, logger, now: () => clock });
  presence.start();
  started.push(presence);
  return presence;
}

describe('ClusterPresence', () => {
  it("knows another node's agents as they come and go, and never counts its own", async () => {
    const a = node('a');
    const b = node('b');
    a.changed('site-1', true);
    await vi.waitFor(() => expect(b.isOnline('site-1')).toBe(true));
    expect(a.isOnline('site-1')).toBe(false);
    a.changed('site-1', false);
    await vi.waitFor(() => expect(b.isOnline('site-1')).toBe(false));
  });

  it('keeps a site online while another node still has it (an agent moving between nodes)', async () => {
    const a = node('a');
    const b = node('b');
    const c = node('c');
    b.changed('site-2', true);
    await vi.waitFor(() => expect(c.isOnline('site-2')).toBe(true));
    a.changed('site-2', true);
    b.changed('site-2', false);
    await vi.waitFor(() => expect(b.isOnline('site-2')).toBe(true));
    expect(c.isOnline('site-2')).toBe(true);
  });

  it("a starting node asks for the others' lists; a silent node's sites lapse after the lease", () => {
    node('a', ['site-3', 'site-4']);
    const late = node('late');
    // The answer to its sync travels in-process at once.
    expect(late.isOnline('site-3') && late.isOnline('site-4')).toBe(true);
    clock += 1001;
    expect(late.isOnline('site-3')).toBe(false);
  });

  it('says nothing on a store that serves one node (SQLite)', async () => {
    const single = sqliteSignals();
    const sent: string[] = [];
    single.subscribe('cp_presence', (payload) => sent.push(payload));
    const presence = new ClusterPresence({ signals: single, nodeId: 'only', local: () => ['site-5'], refreshMs: 60_000, leaseMs: 1000, logger });
    presence.start();
    presence.changed('site-5', true);
    await presence.stop();
    expect(sent).toEqual([]);
  });
});

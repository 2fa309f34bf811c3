import { describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { openStore } from '../../../src/agent/store/database.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const at = '2027-01-17T02:00:00.000Z';
const runId = '0c8f0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00';

describe('the outbox', () => {
  it('hands out rows in seq order within a window and forgets only what was acknowledged', () => {
    const store = openStore({ stateDir: tempDir(), logger: captureLogger().logger, exclusive: false });
    try {
      const outbox = new OutboxRepository(store.db);
      const seqs = [1, 2, 3, 4, 5].map((n) => outbox.append({ type: 'scan.event', at, run_id: runId, level: 'info', message: `event ${n}` }));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(outbox.pending(0, 2).map((row) => JSON.parse(row.payload).message)).toEqual(['event 1', 'event 2']);
      expect(outbox.pending(seqs[1]!, 10)).toHaveLength(3);
      expect(outbox.acknowledge(seqs[2]!)).toBe(3);
      expect(outbox.pending(0, 10).map((row) => row.seq)).toEqual(seqs.slice(3));
    } finally {
      store.close();
    }
  });

  it('refuses a report the control plane would refuse, and stores nothing of it', () => {
    const store = openStore({ stateDir: tempDir(), logger: captureLogger().logger, exclusive: false });
    try {
      const outbox = new OutboxRepository(store.db);
      expect(() => outbox.append({ type: 'scan.progress', at, run_id: runId, percent: 140, hosts_done: 1, hosts_total: 2 })).toThrow(
        /invalid scan\.progress report: percent/,
      );
      expect(() => outbox.append({ type: 'scan.event', at, run_id: 'not-a-uuid', level: 'info', message: 'x' })).toThrow(/run_id/);
      expect(outbox.count()).toBe(0);
    } finally {
      store.close();
    }
  });
});

import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StorageHealth } from '../../../src/agent/storage-health.js';
import { CommandDispatcher, type CommandHandlers } from '../../../src/agent/uplink/command-dispatcher.js';
import type { UplinkSession } from '../../../src/agent/uplink/uplink-client.js';
import { UplinkState } from '../../../src/agent/uplink/uplink-state.js';
import { openStore } from '../../../src/agent/store/database.js';
import type { Command, UpFrame } from '../../../src/protocol/index.js';
import { systemClock } from '../../../src/shared/clock.js';
import { tempDir } from '../../helpers/temp.js';

const stop = (seq: number): Command => ({
  type: 'scan.stop',
  seq,
  issued_at: new Date().toISOString(),
  schedule_id: 'c27d0e8b-9f1a-4b3c-8d4e-6f708192a3b4',
  scan_id: null,
});

function setup(handler: (command: Command) => Promise<void>, options: { storage?: StorageHealth; logger?: pino.Logger } = {}) {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = openStore({ stateDir: tempDir('uplink-dispatch-'), logger, exclusive: false });
  onTestFinished(() => store.close());
  const state = new UplinkState(store.db);
  const shutdown = new AbortController();
  const handlers = Object.fromEntries(
    ['schedule.upsert', 'schedule.delete', 'scan.invoke', 'scan.ips', 'scan.stop', 'vuln.mark', 'feed.file'].map((type) => [type, handler]),
  ) as unknown as CommandHandlers;
  const dispatcher = new CommandDispatcher({ db: store.db, state, handlers, logger, shutdown: shutdown.signal, storage: options.storage });
  const sent: UpFrame[] = [];
  const session = { welcome: {} as never, open: true, send: (frame: UpFrame) => sent.push(frame), sendText: () => undefined } satisfies UplinkSession;
  return { dispatcher, state, shutdown, sent, session };
}

describe('command dispatcher', () => {
  it('a failing handler gets an error reply naming its seq and is acknowledged once; a replay is only acknowledged again', async () => {
    const applied: number[] = [];
    const { dispatcher, state, sent, session } = setup(async (command) => {
      applied.push(command.seq);
      if (command.seq === 2) throw new Error('boom');
    });
    for (const seq of [1, 2, 3, 2]) dispatcher.receive(stop(seq), session);
    await dispatcher.idle();
    expect(applied).toEqual([1, 2, 3]);
    expect(sent).toEqual([
      { type: 'ack', seq: 1 },
      { type: 'error', code: 'rejected', message: 'scan.stop: boom', seq: 2, fatal: false },
      { type: 'ack', seq: 2 },
      { type: 'ack', seq: 3 },
      { type: 'ack', seq: 3 },
    ]);
    expect(state.lastCommandSeq).toBe(3);
  });

  it('a command cut short by the shutdown is neither recorded nor acknowledged, so it comes again', async () => {
    const { dispatcher, state, shutdown, sent, session } = setup(
      (command) =>
        new Promise<void>((resolve, reject) => {
          if (command.seq === 1) return resolve();
          shutdown.signal.addEventListener('abort', () => reject(shutdown.signal.reason as Error), { once: true });
        }),
    );
    dispatcher.receive(stop(1), session);
    dispatcher.receive(stop(2), session);
    await new Promise((resolve) => setTimeout(resolve, 10));
    shutdown.abort(new Error('agent stopping'));
    await dispatcher.idle();
    expect(sent).toEqual([{ type: 'ack', seq: 1 }]);
    expect(state.lastCommandSeq).toBe(1);
  });

  it('a command that comes while storage is already failing says it is held, waits, and is applied once storage recovers', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) });
    let diskFull = true;
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const storage = new StorageHealth({
      clock: systemClock,
      logger,
      probeMs: 3_600_000,
      probe: () => {
        if (diskFull) throw full;
      },
    });
    onTestFinished(() => storage.stop());
    // Failing before the command comes, from another write (the outbox's, in the field).
    expect(storage.failed(full, 'outbox acknowledge')).toBe(true);
    const applied: number[] = [];
    const { dispatcher, state, sent, session } = setup(
      async (command) => {
        applied.push(command.seq);
      },
      { storage, logger },
    );
    dispatcher.receive(stop(1), session);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(applied).toEqual([]);
    expect(sent).toEqual([]);
    expect(lines.filter((line) => line === 'command held until storage recovers; it is applied then')).toHaveLength(1);

    diskFull = false;
    expect(storage.probe()).toBe(true);
    await dispatcher.idle();
    expect(applied).toEqual([1]);
    expect(sent).toEqual([{ type: 'ack', seq: 1 }]);
    expect(state.lastCommandSeq).toBe(1);
  });
});

/**
 * The one place that decides "storage is failing", and the timer-driven writes that report to it:
 * an injected write failure (a store whose writes throw SQLITE_FULL while the test says the disk
 * is full; no module mocks) must never throw out of a timer, and clears by a probe write.
 */
import { describe, expect, it } from 'vitest';
import { StorageHealth, StorageUnavailable, storageStatusLine } from '../../../src/agent/storage-health.js';
import { OutboxPump } from '../../../src/agent/uplink/outbox-pump.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { UplinkState } from '../../../src/agent/uplink/uplink-state.js';
import { migrations } from '../../../src/agent/store/migrations/index.js';
import { isStorageFailure } from '../../../src/shared/system-errors.js';
import { openSqlite, type Db } from '../../../src/shared/sqlite.js';
import { decodeDownFrame, decodeUpFrame } from '../../../src/protocol/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { ManualTimers } from '../../integration/uplink/manual-timers.js';
import type { UplinkSession } from '../../../src/agent/uplink/uplink-client.js';
import path from 'node:path';

const clock = { now: () => new Date('2025-03-01T10:00:00Z') };
const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

/** The agent's real store, whose writes fail like a full disk's while `disk.full` is set. */
function storeOnDisk(disk: { full: boolean }): Db {
  const db = openSqlite({ file: path.join(tempDir('storage-health-'), 'agent.db'), logger: captureLogger().logger, migrations });
  const transaction = db.transaction.bind(db);
  const prepare = db.prepare.bind(db);
  return Object.assign(db, {
    transaction: ((fn: (...args: unknown[]) => unknown) => {
      const wrapped = transaction(fn);
      return Object.assign((...args: unknown[]) => {
        if (disk.full) throw full();
        return wrapped(...args);
      }, wrapped);
    }) as Db['transaction'],
    prepare: ((sql: string) => {
      const statement = prepare(sql);
      if (!/^\s*(INSERT|UPDATE|DELETE)/i.test(sql)) return statement;
      const run = statement.run.bind(statement);
      return Object.assign(statement, {
        run: (...args: unknown[]) =>
          disk.full
            ? (() => {
                throw full();
              })()
            : run(...(args as [])),
      });
    }) as Db['prepare'],
  });
}

describe('isStorageFailure', () => {
  it('knows a full or failing disk by its codes, also as the cause of another error, and nothing else', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'ENOSPC', 'EIO'])
      expect(isStorageFailure(Object.assign(new Error(code), { code }))).toBe(true);
    expect(isStorageFailure(new Error('wrapped', { cause: full() }))).toBe(true);
    for (const error of [
      new Error('x'),
      Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }),
      Object.assign(new Error('no'), { code: 'EACCES' }),
      null,
      'ENOSPC',
    ])
      expect(isStorageFailure(error)).toBe(false);
  });
});

describe('StorageHealth', () => {
  it('fails on the first storage error (logged once), ignores others, and clears when a probe write succeeds', async () => {
    const disk = { full: true };
    const { logger, messages } = captureLogger('debug');
    const health = new StorageHealth({
      probe: () => {
        if (disk.full) throw full();
      },
      clock,
      logger,
      probeMs: 10,
    });
    const changes: boolean[] = [];
    health.onChange((state) => changes.push(state.failing));
    expect(health.failed(new Error('not a disk problem'), 'x')).toBe(false);
    expect(health.failing).toBe(false);
    expect(health.failed(full(), 'outbox acknowledge')).toBe(true);
    expect(health.failed(full(), 'scan batch')).toBe(true);
    expect(health.state).toMatchObject({ failing: true, reason: 'SQLITE_FULL: database or disk is full (outbox acknowledge)' });
    expect(storageStatusLine(health.state)).toMatch(/^storage full: not starting scans \(SQLITE_FULL: database or disk is full \(outbox acknowledge\); since /);
    expect(messages().filter((m) => m.startsWith('storage full: not starting scans'))).toHaveLength(1);
    expect(new StorageUnavailable(health.state).message).toMatch(/not starting scans/);
    expect(health.probe()).toBe(false);

    const writable = health.whenWritable();
    disk.full = false;
    await writable;
    expect(health.failing).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(messages()).toContain('storage writable again: scans start again');
    health.stop();
  });
});

describe('the outbox pump on a full disk', () => {
  it('an acknowledge from its flush timer never throws; the rows stay, and go when storage recovers', () => {
    const disk = { full: false };
    const db = storeOnDisk(disk);
    const outbox = new OutboxRepository(db);
    for (let i = 0; i < 3; i += 1)
      db.prepare('INSERT INTO outbox (type, payload, created_at) VALUES (?, ?, ?)').run('scan.event', `{"type":"scan.event","n":${i}}`, '2025-03-01T10:00:00Z');
    const rows = outbox.pending(0, 10).map((row) => row.seq);
    const { logger } = captureLogger('debug');
    const health = new StorageHealth({
      probe: () => {
        if (disk.full) throw full();
      },
      clock,
      logger,
      probeMs: 60_000,
    });
    const timers = new ManualTimers();
    const state = new UplinkState(db);
    const pump = new OutboxPump({ db, outbox, state, logger, timers, storage: health, ackFlushMs: 50 });
    const sent: string[] = [];
    const session: UplinkSession = {
      welcome: {
        type: 'welcome',
        protocol: 1,
        server_version: 't',
        site_id: '0195b8a4-0000-7000-8000-000000000002',
        resume_after_seq: 0,
        heartbeat_interval_ms: 10_000,
        max_frame_bytes: 1 << 20,
      },
      open: true,
      send: () => undefined,
      sendText: (text) => sent.push(text),
    };
    pump.attach(session);
    expect(sent).toHaveLength(3);

    disk.full = true;
    pump.acked(rows[2] as number);
    expect(() => timers.advance(50)).not.toThrow();
    expect(health.failing).toBe(true);
    disk.full = false;
    expect(outbox.count()).toBe(3);
    expect(state.lastAckedSeq).toBe(0);

    expect(health.probe()).toBe(true);
    expect(outbox.count()).toBe(0);
    expect(state.lastAckedSeq).toBe(rows[2]);
    pump.close();
    health.stop();
    db.close();
  });
});

describe('the heartbeat storage field', () => {
  const at = '2025-03-01T10:00:00Z';
  it('is optional and additive both ways: a heartbeat with or without it decodes, anything else in it is refused', () => {
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at }))).toMatchObject({ ok: true });
    expect(decodeDownFrame(JSON.stringify({ type: 'heartbeat', at }))).toMatchObject({ ok: true });
    const failing = { type: 'heartbeat', at, storage: { state: 'failing', reason: 'SQLITE_FULL: database or disk is full (outbox acknowledge)', since: at } };
    expect(decodeUpFrame(JSON.stringify(failing))).toEqual({ ok: true, frame: failing });
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, storage: { state: 'ok', reason: null, since: at } }))).toMatchObject({ ok: true });
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, storage: { state: 'melting', reason: null, since: at } }))).toMatchObject({ ok: false });
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, storage: { state: 'ok', reason: null, since: at, extra: 1 } }))).toMatchObject({ ok: false });
  });
});

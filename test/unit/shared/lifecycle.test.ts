import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { composeParts, runUntilSignalled, type Part } from '../../../src/shared/lifecycle.js';

const logger = pino({ level: 'silent' });

function recorder() {
  const calls: string[] = [];
  const part = (name: string, failStop = false): Part => ({
    name,
    start: () => void calls.push(`start ${name}`),
    stop: () => {
      calls.push(`stop ${name}`);
      if (failStop) throw new Error(`${name} stuck`);
    },
    reload: () => void calls.push(`reload ${name}`),
  });
  return { calls, part };
}

/** A stand-in for `process`: signals are events; exit is recorded, never taken. */
function fakeProcess() {
  const proc = new EventEmitter() as EventEmitter & { exit: (code?: number) => never; exits: number[] };
  proc.exits = [];
  proc.exit = ((code?: number) => void proc.exits.push(code ?? 0)) as never;
  return proc;
}

describe('composeParts', () => {
  it('starts in order, stops in reverse, visits every part even after a failure, and stops once', async () => {
    const { calls, part } = recorder();
    const parts = composeParts([part('store'), part('scheduler', true), part('uplink')], logger);
    await parts.start();
    expect(await parts.stop()).toBe(1);
    expect(await parts.stop()).toBe(1);
    expect(calls).toEqual(['start store', 'start scheduler', 'start uplink', 'stop uplink', 'stop scheduler', 'stop store']);
  });

  it('stops only the parts that started when the start is aborted', async () => {
    const { calls, part } = recorder();
    const abort = new AbortController();
    const parts = composeParts([part('store'), { ...part('slow'), start: () => abort.abort() }, part('never')], logger);
    await expect(parts.start(abort.signal)).rejects.toThrow();
    expect(await parts.stop()).toBe(0);
    expect(calls).toEqual(['start store', 'stop slow', 'stop store']);
  });
});

describe('runUntilSignalled', () => {
  it('runs until SIGTERM, ignores a second signal, reloads on SIGHUP', async () => {
    const { calls, part } = recorder();
    const parts = composeParts([part('store')], logger);
    const proc = fakeProcess();
    const run = runUntilSignalled(parts, { logger, proc });
    await new Promise((resolve) => setImmediate(resolve));
    proc.emit('SIGHUP');
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGINT', 'SIGINT');
    expect(await run).toBe(0);
    expect(calls).toEqual(['start store', 'reload store', 'stop store']);
  });

  it('turns an uncaught error into a clean stop with exit code 70', async () => {
    const { calls, part } = recorder();
    const proc = fakeProcess();
    const run = runUntilSignalled(composeParts([part('store')], logger), { logger, proc });
    await new Promise((resolve) => setImmediate(resolve));
    proc.emit('uncaughtException', new Error('boom'));
    expect(await run).toBe(70);
    expect(calls).toEqual(['start store', 'stop store']);
  });

  it('stops what started and rethrows when the start fails', async () => {
    const { calls, part } = recorder();
    const failing: Part = { name: 'listener', start: () => Promise.reject(new Error('EADDRINUSE')), stop: () => void calls.push('stop listener') };
    await expect(runUntilSignalled(composeParts([part('store'), failing], logger), { logger, proc: fakeProcess() })).rejects.toThrow('EADDRINUSE');
    expect(calls).toEqual(['start store', 'stop listener', 'stop store']);
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GuardedNet } from '../../../src/agent/scan/guarded-net.js';
import { ScopeGuard } from '../../../src/agent/scan/scope-guard.js';
import type { ProbeState } from '../../../src/agent/scan/tcp-probe.js';
import { tcpServer } from './servers.js';

// This file's peers live on 127.0.17.1; port 47002 is in no default list.
const ADDRESS = '127.0.17.1';
const PORT = 47002;

/** Holds the agent's own thread, as a busy box or a long synchronous write does. */
function stallThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const probe = (net: GuardedNet, port: number, timeoutMs: number) =>
  new Promise<ProbeState>((resolve) => net.probeTcp(ADDRESS, port, timeoutMs, (state) => resolve(state)));

describe("a port's verdict is immune to the agent's own stalls", () => {
  it('reports open every port that connected while the thread was stalled past the timeout', async () => {
    await tcpServer(ADDRESS, PORT, (socket) => socket.end()); // servers.ts closes it after each test
    const net = new GuardedNet(new ScopeGuard([ADDRESS]), new AbortController().signal);
    const signal = new AbortController().signal;
    const connects = Array.from({ length: 20 }, () => net.connectTcp(ADDRESS, PORT, { timeoutMs: 50, signal }));
    await nextTurn(); // the connects are on the wire
    stallThread(400); // every timer is overdue when the loop turns again; the answers wait behind them
    const outcomes = await Promise.all(connects);
    expect(outcomes.map((outcome) => outcome.state)).toEqual(Array.from({ length: 20 }, () => 'open'));
  });

  it('reports a refused port as closed, not silent, after a stall', async () => {
    const net = new GuardedNet(new ScopeGuard([ADDRESS]), new AbortController().signal);
    const signal = new AbortController().signal;
    const connects = Array.from({ length: 5 }, () => net.connectTcp(ADDRESS, PORT + 1, { timeoutMs: 50, signal }));
    await nextTurn();
    stallThread(400);
    const outcomes = await Promise.all(connects);
    expect(outcomes.map((outcome) => outcome.state)).toEqual(Array.from({ length: 5 }, () => 'closed'));
  });

  // The port scan's own connect (probeTcp): the raw libuv handle where Node has it, else net.Socket.
  for (const socketsOnly of [false, true]) {
    const path = socketsOnly ? 'net.Socket' : 'raw handle';
    it(`port scan (${path}): a port that answered during a stall past its timeout is open, a refused one closed`, async () => {
      await tcpServer(ADDRESS, PORT, (socket) => socket.end());
      const net = new GuardedNet(new ScopeGuard([ADDRESS]), new AbortController().signal, { socketsOnly });
      const opens = Array.from({ length: 20 }, () => probe(net, PORT, 50));
      const refused = Array.from({ length: 5 }, () => probe(net, PORT + 1, 50));
      await nextTurn();
      stallThread(400);
      expect(await Promise.all(opens)).toEqual(Array.from({ length: 20 }, () => 'open'));
      expect(await Promise.all(refused)).toEqual(Array.from({ length: 5 }, () => 'closed'));
      expect(net.connecting).toBe(0);
    });
  }

  it('port scan: a port whose SYN is dropped is silent once its timeout passes (the one sweep, no timer per socket)', async () => {
    // A listener that never accepts, with a full queue: the kernel drops further SYNs unanswered.
    const listener = spawn('python3', [
      '-c',
      `import socket, sys, time\ns = socket.socket(); s.bind(('${ADDRESS}', ${PORT + 2})); s.listen(0); print('up', flush=True); time.sleep(30)`,
    ]);
    try {
      await once(listener.stdout, 'data');
      const fillers = Array.from({ length: 3 }, () => connect({ host: ADDRESS, port: PORT + 2 }).on('error', () => undefined));
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const socketsOnly of [false, true]) {
        const net = new GuardedNet(new ScopeGuard([ADDRESS]), new AbortController().signal, { socketsOnly });
        expect(await probe(net, PORT + 2, 100)).toBe('silent');
        expect(net.connecting).toBe(0);
      }
      for (const filler of fillers) filler.destroy();
    } finally {
      listener.kill();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { GuardedNet } from '../../../src/agent/scan/guarded-net.js';
import { ScopeGuard } from '../../../src/agent/scan/scope-guard.js';
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
});

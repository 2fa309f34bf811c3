/**
 * ClusterSignals of the embedded store: SQLite serves one process, so "every node" is this one and
 * an in-process emitter is the whole transport. Command wake-ups wait for the commit: the store
 * runs its command-writing transactions through `committed`, which releases what was recorded
 * inside only when the transaction returned (better-sqlite3 transactions are synchronous, so
 * nothing else runs in between) and drops it when it threw.
 */
import { EventEmitter } from 'node:events';
import type { ClusterSignals } from '../types.js';
import { checkSignal, COMMANDS_CHANNEL } from '../signals.js';

export interface SqliteSignals extends ClusterSignals {
  /** Runs a synchronous write transaction; command wake-ups recorded inside go out after it returned, none if it threw. */
  committed<T>(transaction: () => T): T;
}

export function sqliteSignals(onHandlerError: (error: unknown) => void = () => undefined): SqliteSignals {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let depth = 0;
  let recorded = new Set<string>();

  // A handler that throws must neither fail the store call that committed nor starve the other handlers.
  const on = <T>(event: string, handler: (value: T) => void): (() => void) => {
    const safe = (value: T) => {
      try {
        handler(value);
      } catch (error) {
        onHandlerError(error);
      }
    };
    emitter.on(event, safe);
    return () => emitter.off(event, safe);
  };
  const release = (siteIds: string[]) => {
    if (siteIds.length > 0) emitter.emit(COMMANDS_CHANNEL, siteIds);
  };

  return {
    clustered: false,
    committed(transaction) {
      depth += 1;
      let result;
      try {
        result = transaction();
      } catch (error) {
        depth -= 1;
        if (depth === 0) recorded = new Set();
        throw error;
      }
      depth -= 1;
      if (depth === 0) {
        const siteIds = [...recorded];
        recorded = new Set();
        release(siteIds);
      }
      return result;
    },
    commandsStored(_tx, siteIds) {
      if (depth > 0) for (const id of siteIds) recorded.add(id);
      // Outside `committed` the write is already durable (an autocommit statement).
      else release([...new Set(siteIds)]);
    },
    onCommands(handler) {
      return on(COMMANDS_CHANNEL, handler);
    },
    async publish(channel, payload) {
      checkSignal(channel, payload);
      emitter.emit(`message:${channel}`, payload);
    },
    subscribe(channel, handler) {
      checkSignal(channel, '');
      return on(`message:${channel}`, handler);
    },
    onReconnected() {
      // One process, no connection to lose.
      return () => undefined;
    },
  };
}

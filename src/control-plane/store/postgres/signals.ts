/**
 * ClusterSignals over PostgreSQL's LISTEN/NOTIFY: no second broker. A NOTIFY issued inside a
 * transaction is delivered when it commits and dropped when it rolls back, so "commands were
 * stored" reaches every node exactly when the rows are there to read. Every node, the sender
 * included, hears its own notifications (its LISTEN connection is not the one that sent them).
 */
import type { Logger } from 'pino';
import type { ClusterSignals } from '../types.js';
import { checkSignal, chunkSiteIds, COMMANDS_CHANNEL, parseSiteIds } from '../signals.js';
import type { PgDb, Queryable } from './db.js';

/**
 * The store porters' call: inside the `db.tx` that stored commands for these sites, with its
 * client, after the INSERTs: `await notifyCommands(client, siteIds)`. Long lists go in several
 * NOTIFYs (each payload under 7 KB); identical ones in one transaction are folded by PostgreSQL.
 */
export async function notifyCommands(client: Queryable, siteIds: readonly string[]): Promise<void> {
  const chunks = chunkSiteIds(siteIds);
  if (chunks.length === 0) return;
  // One round trip whatever the number of chunks.
  await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [COMMANDS_CHANNEL, chunks]);
}

export function pgSignals(db: PgDb, logger: Logger): ClusterSignals {
  const log = logger.child({ component: 'signals' });
  // A handler that throws must not starve the others of the same notification.
  const guarded =
    <T>(handler: (value: T) => void) =>
    (value: T) => {
      try {
        handler(value);
      } catch (error) {
        log.error({ err: error }, 'a cluster signal handler failed');
      }
    };
  return {
    clustered: true,
    commandsStored(tx, siteIds) {
      return notifyCommands(tx as Queryable, siteIds);
    },
    onCommands(handler) {
      const safe = guarded(handler);
      return db.listen(COMMANDS_CHANNEL, (payload) => {
        const siteIds = parseSiteIds(payload);
        if (siteIds.length > 0) safe(siteIds);
      });
    },
    async publish(channel, payload) {
      checkSignal(channel, payload);
      await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    subscribe(channel, handler) {
      checkSignal(channel, '');
      return db.listen(channel, guarded(handler));
    },
    onReconnected(handler) {
      const safe = guarded(handler);
      // 'listening' also comes with the first connection: what was stored before it was not heard either.
      db.events.on('listening', safe);
      return () => db.events.off('listening', safe);
    },
  };
}

/**
 * The PostgreSQL side of the store: one pool, transactions that retry what PostgreSQL asks to be
 * retried (serialization failures, deadlocks), and one dedicated connection for LISTEN that
 * reconnects by itself. Every store module writes through `tx` and reads through `query`.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';

// Plain numbers for bigint (counts, sequences: far below 2^53) and numeric columns.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PgDb {
  pool: pg.Pool;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Runs `work` in one transaction; retried (whole) on a serialization failure or deadlock. */
  tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Calls `handler` with each payload NOTIFYed on `channel` (any node); resubscribes after a lost connection. */
  listen(channel: string, handler: (payload: string) => void): () => void;
  /**
   * Emits 'reconnected' after the LISTEN connection came back (a node may have missed notifications
   * meanwhile), and 'listening' each time it is up, the first time included (what was stored before it was missed).
   */
  events: EventEmitter;
  /** One round trip: the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const RETRIED = new Set(['40001', '40P01']);

export function openPgDb(options: { url: string; max?: number; logger: Logger; applicationName?: string }): PgDb {
  const log = options.logger.child({ component: 'postgres' });
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'cve-control-plane',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server (a restart) is an 'error' on the pool: logged, never a crash.
  pool.on('error', (error) => log.warn({ reason: error.message }, 'an idle PostgreSQL connection failed'));

  const events = new EventEmitter();
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let listener: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connectListener = (): Promise<void> => {
    connecting ??= (async () => {
      const client = new pg.Client({ connectionString: options.url, application_name: `${options.applicationName ?? 'cve-control-plane'} listen` });
      client.on('error', (error) => log.warn({ reason: error.message }, 'the LISTEN connection failed'));
      client.on('end', () => {
        if (listener === client) listener = undefined;
        if (!closed) scheduleReconnect();
      });
      client.on('notification', (message) => {
        for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      await client.connect();
      for (const channel of handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (closed) {
        await client.end();
        return;
      }
      const reconnected = listener === undefined && wasConnected;
      listener = client;
      wasConnected = true;
      if (reconnected) events.emit('reconnected');
      events.emit('listening');
    })()
      .catch((error: unknown) => {
        log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot LISTEN; retrying');
        scheduleReconnect();
      })
      .finally(() => (connecting = undefined));
    return connecting;
  };
  let wasConnected = false;
  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connectListener();
    }, 1000);
    retryTimer.unref();
  };

  const db: PgDb = {
    pool,
    events,
    async query(text, values) {
      return (await pool.query(text, values)).rows;
    },
    async tx(work) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work(client);
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release();
          const code = (error as { code?: string }).code;
          if (code !== undefined && RETRIED.has(code) && attempt < 5) continue;
          throw error;
        }
      }
    },
    listen(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        if (listener) void listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
      }
      set.add(handler);
      if (!listener) void connectListener();
      return () => set.delete(handler);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await connecting;
      await listener?.end().catch(() => undefined);
      listener = undefined;
      await pool.end();
    },
  };
  return db;
}

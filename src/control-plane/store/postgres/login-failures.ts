/** Failed sign-ins by key, kept in the database so login throttling survives a restart and holds across nodes. */
import type { LoginFailureStore } from '../types.js';
import type { PgDb } from './db.js';

export function pgLoginFailures(db: PgDb): LoginFailureStore {
  return {
    async attempt(keys, at, sinceIso, limit) {
      return db.tx(async (client) => {
        // Parallel guesses, on any node, queue on their keys' locks (taken in one order: no deadlock)
        // so each sees the failures of the ones before it.
        for (const key of [...keys].sort()) await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`login:${key}`]);
        await client.query('DELETE FROM login_failures WHERE at <= $1', [sinceIso]);
        const { rows } = await client.query<{ key: string; at: string }>(
          'SELECT key, at FROM login_failures WHERE key = ANY($1::text[]) AND at > $2 ORDER BY at, id',
          [keys, sinceIso],
        );
        const throttled = keys.map((key) => rows.filter((row) => row.key === key).map((row) => row.at)).filter((times) => times.length >= limit);
        if (throttled.length > 0) return { throttled };
        const inserted = await client.query<{ id: number }>('INSERT INTO login_failures (key, at) SELECT unnest($1::text[]), $2 RETURNING id', [keys, at]);
        return { ids: inserted.rows.map((row) => row.id) };
      });
    },
    async succeeded(ids, clearKey) {
      await db.tx(async (client) => {
        await client.query('DELETE FROM login_failures WHERE id = ANY($1::bigint[])', [ids]);
        await client.query('DELETE FROM login_failures WHERE key = $1', [clearKey]);
      });
    },
  };
}

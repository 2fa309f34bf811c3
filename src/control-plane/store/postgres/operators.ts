/** Console operators and their sessions' validity (sign out everywhere, password reset). */
import type { OperatorRow, OperatorStore } from '../types.js';
import type { PgDb } from './db.js';

const columns = 'id, org_id, email, name, role, password_hash, created_at, updated_at, sessions_valid_after';

export function pgOperators(db: PgDb): OperatorStore {
  return {
    async create(o) {
      const { rowCount } = await db.pool.query(
        `INSERT INTO operators (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (email) DO NOTHING`,
        [o.id, o.org_id, o.email, o.name, o.role, o.password_hash, o.created_at, o.updated_at, o.sessions_valid_after],
      );
      return rowCount === 1;
    },
    async get(id) {
      return (await db.query<OperatorRow>(`SELECT ${columns} FROM operators WHERE id = $1`, [id]))[0];
    },
    async byEmail(email) {
      return (await db.query<OperatorRow>(`SELECT ${columns} FROM operators WHERE email = $1`, [email.toLowerCase()]))[0];
    },
    async list(orgId) {
      return orgId === undefined
        ? db.query<OperatorRow>(`SELECT ${columns} FROM operators ORDER BY org_id, created_at, email`)
        : db.query<OperatorRow>(`SELECT ${columns} FROM operators WHERE org_id = $1 ORDER BY created_at, email`, [orgId]);
    },
    async remove(id) {
      // The sessions go with it (ON DELETE CASCADE).
      return (await db.pool.query('DELETE FROM operators WHERE id = $1', [id])).rowCount === 1;
    },
    async setPassword(id, hash, at) {
      return db.tx(async (client) => {
        const { rowCount } = await client.query('UPDATE operators SET password_hash = $1, updated_at = $2, sessions_valid_after = $2 WHERE id = $3', [
          hash,
          at,
          id,
        ]);
        await client.query('DELETE FROM console_sessions WHERE operator_id = $1', [id]);
        return rowCount === 1;
      });
    },
    async endSessions(id, at) {
      await db.tx(async (client) => {
        await client.query('UPDATE operators SET sessions_valid_after = $1, updated_at = $1 WHERE id = $2', [at, id]);
        await client.query('DELETE FROM console_sessions WHERE operator_id = $1', [id]);
      });
    },
  };
}

/** API tokens the control plane minted, by jti. */
import type { ApiTokenRow, ApiTokenStore } from '../types.js';
import type { PgDb } from './db.js';

type Stored = Omit<ApiTokenRow, 'scopes'> & { scopes: string };

const columns = 'id, org_id, name, scopes, created_by, created_at, expires_at, revoked_at';
const rowOf = (row: Stored): ApiTokenRow => ({ ...row, scopes: row.scopes.split(' ').filter(Boolean) });

export function pgApiTokens(db: PgDb): ApiTokenStore {
  return {
    async create(t) {
      await db.query(`INSERT INTO api_tokens (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        t.id,
        t.org_id,
        t.name,
        t.scopes.join(' '),
        t.created_by,
        t.created_at,
        t.expires_at,
        t.revoked_at,
      ]);
    },
    async list(orgId) {
      return (await db.query<Stored>(`SELECT ${columns} FROM api_tokens WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId])).map(rowOf);
    },
    async get(id) {
      const [row] = await db.query<Stored>(`SELECT ${columns} FROM api_tokens WHERE id = $1`, [id]);
      return row === undefined ? undefined : rowOf(row);
    },
    async revoke(orgId, id, at) {
      return (await db.pool.query('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE org_id = $2 AND id = $3', [at, orgId, id])).rowCount === 1;
    },
  };
}

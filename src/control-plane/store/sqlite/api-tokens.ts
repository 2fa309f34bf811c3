/** API tokens the control plane minted, by jti. */
import type { Db } from '../../../shared/sqlite.js';
import type { ApiTokenRow, ApiTokenStore } from '../types.js';

type Stored = Omit<ApiTokenRow, 'scopes'> & { scopes: string };

const columns = 'id, org_id, name, scopes, created_by, created_at, expires_at, revoked_at';
const rowOf = (row: Stored): ApiTokenRow => ({ ...row, scopes: row.scopes.split(' ').filter(Boolean) });

export function sqliteApiTokens(db: Db): ApiTokenStore {
  const insert = db.prepare(`INSERT INTO api_tokens (${columns}) VALUES (@id, @org_id, @name, @scopes, @created_by, @created_at, @expires_at, @revoked_at)`);
  const ofOrg = db.prepare<[string], Stored>(`SELECT ${columns} FROM api_tokens WHERE org_id = ? ORDER BY created_at DESC, id`);
  const one = db.prepare<[string], Stored>(`SELECT ${columns} FROM api_tokens WHERE id = ?`);
  const revoke = db.prepare('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE org_id = ? AND id = ?');
  return {
    async create(token) {
      insert.run({ ...token, scopes: token.scopes.join(' ') });
    },
    async list(orgId) {
      return ofOrg.all(orgId).map(rowOf);
    },
    async get(id) {
      const row = one.get(id);
      return row === undefined ? undefined : rowOf(row);
    },
    async revoke(orgId, id, at) {
      return revoke.run(at, orgId, id).changes === 1;
    },
  };
}

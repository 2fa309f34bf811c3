/** Console operators and their sessions' validity (sign out everywhere, password reset). */
import type { Db } from '../../../shared/sqlite.js';
import type { OperatorRow, OperatorStore } from '../types.js';

const columns = 'id, org_id, email, name, role, password_hash, created_at, updated_at, sessions_valid_after';

export function sqliteOperators(db: Db): OperatorStore {
  const insert = db.prepare(
    `INSERT INTO operators (${columns}) VALUES (@id, @org_id, @email, @name, @role, @password_hash, @created_at, @updated_at, @sessions_valid_after)
     ON CONFLICT (email) DO NOTHING`,
  );
  const one = db.prepare<[string], OperatorRow>(`SELECT ${columns} FROM operators WHERE id = ?`);
  const byEmail = db.prepare<[string], OperatorRow>(`SELECT ${columns} FROM operators WHERE email = ?`);
  const all = db.prepare<[], OperatorRow>(`SELECT ${columns} FROM operators ORDER BY org_id, created_at, email`);
  const ofOrg = db.prepare<[string], OperatorRow>(`SELECT ${columns} FROM operators WHERE org_id = ? ORDER BY created_at, email`);
  const remove = db.prepare('DELETE FROM operators WHERE id = ?');
  const password = db.prepare('UPDATE operators SET password_hash = ?, updated_at = ?, sessions_valid_after = ? WHERE id = ?');
  const validAfter = db.prepare('UPDATE operators SET sessions_valid_after = ?, updated_at = ? WHERE id = ?');
  const dropSessions = db.prepare('DELETE FROM console_sessions WHERE operator_id = ?');
  const setPassword = db.transaction((id: string, hash: string, at: string) => {
    const changed = password.run(hash, at, at, id).changes === 1;
    dropSessions.run(id);
    return changed;
  });
  const endSessions = db.transaction((id: string, at: string) => {
    validAfter.run(at, at, id);
    dropSessions.run(id);
  });
  return {
    async create(operator) {
      return insert.run(operator).changes === 1;
    },
    async get(id) {
      return one.get(id);
    },
    async byEmail(email) {
      return byEmail.get(email.toLowerCase());
    },
    async list(orgId) {
      return orgId === undefined ? all.all() : ofOrg.all(orgId);
    },
    async remove(id) {
      // The sessions go with it (ON DELETE CASCADE).
      return remove.run(id).changes === 1;
    },
    async setPassword(id, hash, at) {
      return setPassword.immediate(id, hash, at);
    },
    async endSessions(id, at) {
      endSessions.immediate(id, at);
    },
  };
}

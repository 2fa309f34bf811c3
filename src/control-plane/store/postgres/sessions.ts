/** Console sessions by the sha256 of their cookie. */
import type { ConsoleSessionRow, SessionStore } from '../types.js';
import type { PgDb } from './db.js';

const columns = 'token_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at';

export function pgSessions(db: PgDb): SessionStore {
  return {
    async create(s) {
      await db.query(`INSERT INTO console_sessions (${columns}) VALUES ($1, $2, $3, $4, $5, $6)`, [
        s.token_hash,
        s.operator_id,
        s.csrf_token,
        s.created_at,
        s.last_seen_at,
        s.expires_at,
      ]);
    },
    async get(tokenHash) {
      return (await db.query<ConsoleSessionRow>(`SELECT ${columns} FROM console_sessions WHERE token_hash = $1`, [tokenHash]))[0];
    },
    async touch(tokenHash, at) {
      await db.query('UPDATE console_sessions SET last_seen_at = $1 WHERE token_hash = $2', [at, tokenHash]);
    },
    async delete(tokenHash) {
      await db.query('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash]);
    },
    async prune(nowIso, idleBeforeIso) {
      await db.query('DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at <= $2', [nowIso, idleBeforeIso]);
    },
  };
}

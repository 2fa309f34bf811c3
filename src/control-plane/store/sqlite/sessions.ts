/** Console sessions by the sha256 of their cookie. */
import type { Db } from '../../../shared/sqlite.js';
import type { ConsoleSessionRow, SessionStore } from '../types.js';

const columns = 'token_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at';

export function sqliteSessions(db: Db): SessionStore {
  const insert = db.prepare(
    `INSERT INTO console_sessions (${columns}) VALUES (@token_hash, @operator_id, @csrf_token, @created_at, @last_seen_at, @expires_at)`,
  );
  const one = db.prepare<[string], ConsoleSessionRow>(`SELECT ${columns} FROM console_sessions WHERE token_hash = ?`);
  const touch = db.prepare('UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?');
  const remove = db.prepare('DELETE FROM console_sessions WHERE token_hash = ?');
  const prune = db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?');
  return {
    async create(session) {
      insert.run(session);
    },
    async get(tokenHash) {
      return one.get(tokenHash);
    },
    async touch(tokenHash, at) {
      touch.run(at, tokenHash);
    },
    async delete(tokenHash) {
      remove.run(tokenHash);
    },
    async prune(nowIso) {
      prune.run(nowIso);
    },
  };
}

/** Failed sign-ins by key, kept in the database so login throttling survives a restart. */
import type { Db } from '../../../shared/sqlite.js';
import type { LoginFailureStore } from '../types.js';

export function sqliteLoginFailures(db: Db): LoginFailureStore {
  const insert = db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)');
  const forget = db.prepare('DELETE FROM login_failures WHERE at < ?');
  const since = db.prepare<[string, string], { at: string }>('SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at');
  const clear = db.prepare('DELETE FROM login_failures WHERE key = ?');
  const record = db.transaction((keys: string[], at: string, forgetBefore: string) => {
    forget.run(forgetBefore);
    for (const key of keys) insert.run(key, at);
  });
  return {
    async record(keys, at, forgetBefore) {
      record.immediate(keys, at, forgetBefore);
    },
    async since(key, sinceIso) {
      return since.all(key, sinceIso).map((row) => row.at);
    },
    async clear(key) {
      clear.run(key);
    },
  };
}

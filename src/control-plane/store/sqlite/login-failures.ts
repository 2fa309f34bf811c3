/** Failed sign-ins by key, kept in the database so login throttling survives a restart. */
import type { Db } from '../../../shared/sqlite.js';
import type { LoginFailureStore } from '../types.js';

export function sqliteLoginFailures(db: Db): LoginFailureStore {
  const insert = db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)');
  const forget = db.prepare('DELETE FROM login_failures WHERE at <= ?');
  const since = db.prepare<[string, string], { at: string }>('SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at');
  const removeRow = db.prepare('DELETE FROM login_failures WHERE rowid = ?');
  const clear = db.prepare('DELETE FROM login_failures WHERE key = ?');
  const attempt = db.transaction((keys: string[], at: string, sinceIso: string, limit: number) => {
    forget.run(sinceIso);
    const throttled = keys.map((key) => since.all(key, sinceIso).map((row) => row.at)).filter((times) => times.length >= limit);
    if (throttled.length > 0) return { throttled };
    return { ids: keys.map((key) => Number(insert.run(key, at).lastInsertRowid)) };
  });
  const succeeded = db.transaction((ids: number[], clearKey: string) => {
    for (const id of ids) removeRow.run(id);
    clear.run(clearKey);
  });
  return {
    async attempt(keys, at, sinceIso, limit) {
      return attempt.immediate(keys, at, sinceIso, limit);
    },
    async succeeded(ids, clearKey) {
      succeeded.immediate(ids, clearKey);
    },
  };
}

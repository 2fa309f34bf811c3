import { randomUUID } from 'node:crypto';
import type { Db } from '../../shared/sqlite.js';

/** Small facts about this agent's installation, kept with its data. */
export class MetaRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(key: string): string | undefined {
    return this.#db.prepare<[string], { value: string }>('SELECT value FROM agent_meta WHERE key = ?').get(key)?.value;
  }

  set(key: string, value: string): void {
    this.#db.prepare('INSERT INTO agent_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Without site_id in the config the agent keeps a generated one, stable across restarts. */
  siteId(configured: string | undefined): string {
    if (configured !== undefined) return configured;
    const kept = this.get('site_id');
    if (kept !== undefined) return kept;
    const generated = randomUUID();
    this.set('site_id', generated);
    return generated;
  }
}

import type { Db } from '../../shared/sqlite.js';
import type { PinKey, RouterPins, StoredPin } from './router-identity.js';

/** The router's learned fingerprints in agent.db (migration 004), one per address, port and transport. */
export class RouterPinRepository implements RouterPins {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(key: PinKey): StoredPin | undefined {
    return this.#db
      .prepare<[string, number, string], StoredPin>('SELECT fingerprint, pinned_at FROM router_pins WHERE host = ? AND port = ? AND transport = ?')
      .get(key.host, key.port, key.transport);
  }

  /** Learns a first pin, or replaces one (`cve-agent router trust --yes`). */
  set(key: PinKey, fingerprint: string): void {
    this.#db
      .prepare(
        `INSERT INTO router_pins (host, port, transport, fingerprint, pinned_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host, port, transport) DO UPDATE SET fingerprint = excluded.fingerprint, pinned_at = excluded.pinned_at`,
      )
      .run(key.host, key.port, key.transport, fingerprint, new Date().toISOString());
  }
}

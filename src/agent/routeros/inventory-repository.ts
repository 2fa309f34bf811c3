import type { Db } from '../../shared/sqlite.js';
import type { Sighting } from './inventory.js';
import type { Inventory } from './inventory-schema.js';
import type { InventoryHistory } from './router-source.js';

/** First and last sighting of every MAC in agent.db (migration 003), so an inventory says how long a host has been around. */
export class InventoryRepository implements InventoryHistory {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  sighting(mac: string): Sighting | undefined {
    return this.#db.prepare<[string], Sighting>('SELECT first_seen, last_seen FROM router_hosts WHERE mac = ?').get(mac);
  }

  /** One transaction per read: a crash leaves either all of it or none. */
  record(inventory: Inventory): void {
    const upsert = this.#db.prepare(`
      INSERT INTO router_hosts (mac, first_seen, last_seen, last_ips, last_hostnames, vendor, randomized_mac)
      VALUES (@mac, @first_seen, @last_seen, @ips, @hostnames, @vendor, @randomized)
      ON CONFLICT (mac) DO UPDATE SET
        first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen),
        last_ips = excluded.last_ips,
        last_hostnames = excluded.last_hostnames,
        vendor = excluded.vendor,
        randomized_mac = excluded.randomized_mac
    `);
    this.#db.transaction(() => {
      for (const host of inventory.hosts) {
        upsert.run({
          mac: host.mac,
          first_seen: host.first_seen,
          last_seen: host.last_seen,
          ips: JSON.stringify(host.ips),
          hostnames: JSON.stringify(host.hostnames),
          vendor: host.vendor,
          randomized: host.randomized_mac ? 1 : 0,
        });
      }
    })();
  }

  /** The addresses the last full read gave the MAC; undefined: never seen. */
  lastIps(mac: string): string[] | undefined {
    const row = this.#db.prepare<[string], { last_ips: string }>('SELECT last_ips FROM router_hosts WHERE mac = ?').get(mac);
    return row === undefined ? undefined : (JSON.parse(row.last_ips) as string[]);
  }

  count(): number {
    return this.#db.prepare<[], { n: number }>('SELECT count(*) AS n FROM router_hosts').get()?.n ?? 0;
  }
}

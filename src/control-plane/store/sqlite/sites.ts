import type { Db } from '../../../shared/sqlite.js';
import type { Site, SiteFeed, SiteStore } from '../types.js';

const columns = 'id, org_id, name, created_at, token_rotated_at, last_seen_at, agent_version';

export function sqliteSites(db: Db): SiteStore {
  const insert = db.prepare(
    'INSERT INTO sites (id, org_id, name, token_hash, token_rotated_at, created_at) VALUES (@id, @org_id, @name, @token_hash, @token_rotated_at, @created_at)',
  );
  const all = db.prepare<[], Site>(`SELECT ${columns} FROM sites ORDER BY org_id, created_at, id`);
  const ofOrg = db.prepare<[string], Site>(`SELECT ${columns} FROM sites WHERE org_id = ? ORDER BY created_at, id`);
  const one = db.prepare<[string], Site>(`SELECT ${columns} FROM sites WHERE id = ?`);
  const byHash = db.prepare<[string], Site>(`SELECT ${columns} FROM sites WHERE token_hash = ?`);
  const rotate = db.prepare('UPDATE sites SET token_hash = ?, token_rotated_at = ? WHERE id = ?');
  const seen = db.prepare('UPDATE sites SET last_seen_at = ?, agent_version = ? WHERE id = ?');
  const seenMany = db.transaction((entries: { id: string; at: string; agentVersion: string }[]) => {
    for (const entry of entries) seen.run(entry.at, entry.agentVersion, entry.id);
  });
  const feed = db.prepare('UPDATE sites SET feed_version = ?, feed_data_as_of = ?, feed_reported_at = ? WHERE id = ?');
  const feedMany = db.transaction((entries: ({ id: string } & SiteFeed)[]) => {
    for (const entry of entries) feed.run(entry.version, JSON.stringify(entry.data_as_of), entry.at, entry.id);
  });
  const feedsOfOrg = db.prepare<[string], { id: string; feed_version: number; feed_data_as_of: string; feed_reported_at: string }>(
    'SELECT id, feed_version, feed_data_as_of, feed_reported_at FROM sites WHERE org_id = ? AND feed_version IS NOT NULL',
  );
  return {
    async create(site) {
      insert.run(site);
    },
    async list(orgId) {
      return orgId === undefined ? all.all() : ofOrg.all(orgId);
    },
    async get(id) {
      return one.get(id);
    },
    async byTokenHash(hash) {
      return byHash.get(hash);
    },
    async rotateToken(id, hash, at) {
      return rotate.run(hash, at, id).changes === 1;
    },
    async recordSeen(entries) {
      seenMany.immediate(entries);
    },
    async recordFeed(entries) {
      feedMany.immediate(entries);
    },
    async feeds(orgId) {
      return new Map(
        feedsOfOrg
          .all(orgId)
          .map((row) => [
            row.id,
            { version: row.feed_version, data_as_of: JSON.parse(row.feed_data_as_of) as Record<string, string>, at: row.feed_reported_at },
          ]),
      );
    },
  };
}

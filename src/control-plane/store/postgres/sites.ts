import type { Site, SiteFeed, SiteStore } from '../types.js';
import type { PgDb } from './db.js';

const columns = 'id, org_id, name, created_at, token_rotated_at, last_seen_at, agent_version';

export function pgSites(db: PgDb): SiteStore {
  return {
    async create(site) {
      await db.query('INSERT INTO sites (id, org_id, name, token_hash, token_rotated_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        site.id,
        site.org_id,
        site.name,
        site.token_hash,
        site.token_rotated_at,
        site.created_at,
      ]);
    },
    async list(orgId) {
      return orgId === undefined
        ? db.query<Site>(`SELECT ${columns} FROM sites ORDER BY org_id, created_at, id`)
        : db.query<Site>(`SELECT ${columns} FROM sites WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
    },
    async get(id) {
      return (await db.query<Site>(`SELECT ${columns} FROM sites WHERE id = $1`, [id]))[0];
    },
    async byTokenHash(hash) {
      return (await db.query<Site>(`SELECT ${columns} FROM sites WHERE token_hash = $1`, [hash]))[0];
    },
    async rotateToken(id, hash, at) {
      const { rowCount } = await db.pool.query('UPDATE sites SET token_hash = $1, token_rotated_at = $2 WHERE id = $3', [hash, at, id]);
      return rowCount === 1;
    },
    // Many sites in one statement (a reconnect storm says hello thousands of times); ids sorted so
    // two nodes updating overlapping sets lock rows in the same order.
    async recordSeen(entries) {
      if (entries.length === 0) return;
      const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await db.query(
        `UPDATE sites SET last_seen_at = e.at, agent_version = e.version
         FROM (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, at, version) ORDER BY id) AS e WHERE sites.id = e.id`,
        [sorted.map((e) => e.id), sorted.map((e) => e.at), sorted.map((e) => e.agentVersion)],
      );
    },
    async recordFeed(entries) {
      if (entries.length === 0) return;
      const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await db.query(
        `UPDATE sites SET feed_version = e.version, feed_data_as_of = e.data_as_of, feed_reported_at = e.at
         FROM (SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS t(id, version, data_as_of, at) ORDER BY id) AS e WHERE sites.id = e.id`,
        [sorted.map((e) => e.id), sorted.map((e) => e.version), sorted.map((e) => JSON.stringify(e.data_as_of)), sorted.map((e) => e.at)],
      );
    },
    async feeds(orgId) {
      const rows = await db.query<{ id: string; feed_version: number; feed_data_as_of: string; feed_reported_at: string }>(
        'SELECT id, feed_version, feed_data_as_of, feed_reported_at FROM sites WHERE org_id = $1 AND feed_version IS NOT NULL',
        [orgId],
      );
      return new Map<string, SiteFeed>(
        rows.map((row) => [
          row.id,
          { version: row.feed_version, data_as_of: JSON.parse(row.feed_data_as_of) as Record<string, string>, at: row.feed_reported_at },
        ]),
      );
    },
  };
}

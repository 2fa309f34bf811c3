import type { CommandItem, CommandStore, PendingCommand } from '../types.js';
import { fromJson, toJson } from '../json.js';
import type { PgDb, Queryable } from './db.js';
import { notifyCommands } from './signals.js';
import { groupBySite } from '../rows.js';

/**
 * Writes commands with each site's next seq; call it inside the transaction of the rows they go
 * with: the agents' nodes are woken when it commits (notifyCommands). One UPDATE per site reserves its seqs (the row lock orders concurrent writers; sites are
 * taken in id order so two writers never wait on each other crosswise), one INSERT stores them all.
 */
export async function commandWriter(client: Queryable, items: readonly CommandItem[]): Promise<PendingCommand[]> {
  if (items.length === 0) return [];
  const counts = new Map<string, number>();
  for (const { siteId } of items) counts.set(siteId, (counts.get(siteId) ?? 0) + 1);
  const sites = [...counts.keys()].sort();
  await client.query('SELECT 1 FROM sites WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [sites]);
  const { rows } = await client.query<{ id: string; last_command_seq: number }>(
    `UPDATE sites SET last_command_seq = sites.last_command_seq + n.count
     FROM unnest($1::text[], $2::int[]) AS n(id, count)
     WHERE sites.id = n.id RETURNING sites.id, sites.last_command_seq`,
    [sites, sites.map((id) => counts.get(id))],
  );
  const next = new Map(rows.map((row) => [row.id, row.last_command_seq - (counts.get(row.id) ?? 0)]));
  const written = items.map(({ siteId, build }) => {
    const previous = next.get(siteId);
    if (previous === undefined) throw new Error(`no site ${siteId}`);
    const seq = previous + 1;
    next.set(siteId, seq);
    return { siteId, command: { seq, ...build(seq) } };
  });
  await client.query(
    'INSERT INTO commands (site_id, seq, type, body, expires_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])',
    [
      written.map((item) => item.siteId),
      written.map((item) => item.command.seq),
      written.map((item) => item.command.type),
      written.map((item) => toJson(item.command.body)),
      written.map((item) => item.command.expires_at),
    ],
  );
  await notifyCommands(client, sites);
  return written.map((item) => item.command);
}

export function pgCommands(db: PgDb): CommandStore {
  const ackOne = async (client: Queryable, siteId: string, seq: number) => {
    await client.query('DELETE FROM commands WHERE site_id = $1 AND seq <= $2', [siteId, seq]);
    await client.query('UPDATE sites SET acked_command_seq = GREATEST(acked_command_seq, $1) WHERE id = $2', [seq, siteId]);
  };
  return {
    async enqueue(items) {
      return db.tx((client) => commandWriter(client, items));
    },
    async pending(siteId, appliedSeq, nowIso) {
      return db.tx(async (client) => {
        await ackOne(client, siteId, appliedSeq);
        await client.query('DELETE FROM commands WHERE site_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2', [siteId, nowIso]);
        const { rows } = await client.query<{ seq: number; type: string; body: string; expires_at: string | null }>(
          'SELECT seq, type, body, expires_at FROM commands WHERE site_id = $1 ORDER BY seq',
          [siteId],
        );
        return rows.map((row) => ({ ...row, body: fromJson<Record<string, unknown>>(row.body) }));
      });
    },
    async unsent(cursors, nowIso) {
      if (cursors.length === 0) return new Map();
      const rows = await db.query<{ site_id: string; seq: number; type: string; body: string; expires_at: string | null }>(
        `SELECT c.site_id, c.seq, c.type, c.body, c.expires_at
         FROM unnest($1::text[], $2::bigint[]) AS k(site_id, seq) JOIN commands c ON c.site_id = k.site_id AND c.seq > k.seq
         WHERE c.expires_at IS NULL OR c.expires_at > $3 ORDER BY c.site_id, c.seq`,
        [cursors.map((c) => c.siteId), cursors.map((c) => c.afterSeq), nowIso],
      );
      return groupBySite(rows);
    },
    async ack(entries) {
      if (entries.length === 0) return;
      // One statement each for many sites: the highest seq per site wins.
      const latest = new Map<string, number>();
      for (const { siteId, seq } of entries) latest.set(siteId, Math.max(seq, latest.get(siteId) ?? 0));
      const sites = [...latest.keys()].sort();
      const seqs = sites.map((id) => latest.get(id));
      await db.tx(async (client) => {
        await client.query('DELETE FROM commands c USING unnest($1::text[], $2::bigint[]) AS a(site_id, seq) WHERE c.site_id = a.site_id AND c.seq <= a.seq', [
          sites,
          seqs,
        ]);
        await client.query(
          `UPDATE sites SET acked_command_seq = GREATEST(sites.acked_command_seq, a.seq)
           FROM (SELECT * FROM unnest($1::text[], $2::bigint[]) AS t(site_id, seq) ORDER BY site_id) AS a WHERE sites.id = a.site_id`,
          [sites, seqs],
        );
      });
    },
  };
}

import type { Db } from '../../../shared/sqlite.js';
import type { CommandItem, CommandStore, PendingCommand } from '../types.js';
import { fromJson, toJson } from '../json.js';
import { groupBySite } from '../rows.js';
import type { SqliteSignals } from './signals.js';

/**
 * Writes commands with each site's next seq; call it inside the transaction of the rows they go
 * with, run through `signals.committed` so the agents' nodes hear of them once it commits.
 */
export function commandWriter(db: Db, signals: SqliteSignals): (items: readonly CommandItem[]) => PendingCommand[] {
  const nextSeq = db.prepare<[string], number>('UPDATE sites SET last_command_seq = last_command_seq + 1 WHERE id = ? RETURNING last_command_seq').pluck();
  const insert = db.prepare('INSERT INTO commands (site_id, seq, type, body, expires_at) VALUES (?, ?, ?, ?, ?)');
  return (items) => {
    const stored = items.map(({ siteId, build }) => {
      const seq = nextSeq.get(siteId);
      if (seq === undefined) throw new Error(`no site ${siteId}`);
      const command = build(seq);
      insert.run(siteId, seq, command.type, toJson(command.body), command.expires_at);
      return { seq, ...command };
    });
    if (items.length > 0)
      signals.commandsStored(
        db,
        items.map((item) => item.siteId),
      );
    return stored;
  };
}

export function sqliteCommands(db: Db, signals: SqliteSignals): CommandStore {
  const write = commandWriter(db, signals);
  const drop = db.prepare('DELETE FROM commands WHERE site_id = ? AND seq <= ?');
  const acked = db.prepare('UPDATE sites SET acked_command_seq = MAX(acked_command_seq, ?) WHERE id = ?');
  const dropExpired = db.prepare('DELETE FROM commands WHERE site_id = ? AND expires_at IS NOT NULL AND expires_at <= ?');
  const pending = db.prepare<[string], { seq: number; type: string; body: string; expires_at: string | null }>(
    'SELECT seq, type, body, expires_at FROM commands WHERE site_id = ? ORDER BY seq',
  );

  // The cursors are bound as one JSON array of [site, seq] pairs, so one statement serves any number.
  const unsent = db.prepare<[string, string], { site_id: string; seq: number; type: string; body: string; expires_at: string | null }>(
    `SELECT c.site_id, c.seq, c.type, c.body, c.expires_at
     FROM json_each(?) AS k JOIN commands c ON c.site_id = k.value ->> '$[0]' AND c.seq > k.value ->> '$[1]'
     WHERE c.expires_at IS NULL OR c.expires_at > ? ORDER BY c.site_id, c.seq`,
  );

  const enqueue = db.transaction((items: CommandItem[]): PendingCommand[] => write(items));
  const ackOne = (siteId: string, seq: number) => {
    drop.run(siteId, seq);
    acked.run(seq, siteId);
  };
  const ack = db.transaction((entries: { siteId: string; seq: number }[]) => {
    for (const { siteId, seq } of entries) ackOne(siteId, seq);
  });
  const replay = db.transaction((siteId: string, appliedSeq: number, nowIso: string) => {
    ackOne(siteId, appliedSeq);
    dropExpired.run(siteId, nowIso);
    return pending.all(siteId).map((row) => ({ ...row, body: fromJson<Record<string, unknown>>(row.body) }));
  });

  return {
    async enqueue(items) {
      return signals.committed(() => enqueue.immediate(items));
    },
    async pending(siteId, appliedSeq, nowIso) {
      return replay.immediate(siteId, appliedSeq, nowIso);
    },
    async ack(entries) {
      ack.immediate(entries);
    },
    async unsent(cursors, nowIso) {
      return groupBySite(unsent.all(JSON.stringify(cursors.map((c) => [c.siteId, c.afterSeq])), nowIso));
    },
  };
}

/**
 * ClusterSignals over PostgreSQL between two nodes (two PgDb pools on one database): a command
 * wake-up NOTIFYed in a transaction reaches the other node once it committed, with the rows
 * readable, and never when it rolled back; messages travel both ways; LISTEN comes back by itself
 * after the server restarted, and says so. Its own cluster: the test stops and restarts it.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import { pgCommands } from '../../../src/control-plane/store/postgres/commands.js';
import { openPgDb, type PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { migratePostgres } from '../../../src/control-plane/store/postgres/migrate.js';
import { pgSites } from '../../../src/control-plane/store/postgres/sites.js';
import { notifyCommands, pgSignals } from '../../../src/control-plane/store/postgres/signals.js';
import type { ClusterSignals } from '../../../src/control-plane/store/types.js';
import { createDatabase, startPostgres, type PostgresCluster } from '../../helpers/postgres.js';

const logger = pino({ level: 'silent' });
const HOST = process.env.TEST_SIGNALS_POSTGRES_HOST ?? '127.0.89.2';

interface Node {
  db: PgDb;
  signals: ClusterSignals;
  heard: string[][];
  messages: string[];
}

let cluster: PostgresCluster;
let nodes: [Node, Node];

function node(url: string): Node {
  const db = openPgDb({ url, max: 3, logger });
  const signals = pgSignals(db, logger);
  const self: Node = { db, signals, heard: [], messages: [] };
  signals.onCommands((siteIds) => self.heard.push(siteIds));
  // Another node's probes (listening()) are no message of the tests.
  signals.subscribe('cp_test', (payload) => payload.startsWith('probe ') || self.messages.push(payload));
  return self;
}

/** LISTEN is issued in the background: a probe sent and heard on the channel subscribed last shows every channel is listened to. */
async function listening(each: Node): Promise<void> {
  const probe = `probe ${crypto.randomUUID()}`;
  const heard: string[] = [];
  const off = each.signals.subscribe('cp_test', (payload) => heard.push(payload));
  await vi.waitFor(
    async () => {
      await each.signals.publish('cp_test', probe);
      expect(heard).toContain(probe);
    },
    { timeout: 20_000, interval: 200 },
  );
  off();
}

beforeAll(async () => {
  cluster = await startPostgres({ host: HOST });
  const url = await createDatabase(cluster.url, 'signals');
  nodes = [node(url), node(url)];
  await migratePostgres(nodes[0].db, controlPlaneMigrations, logger);
  await nodes[0].db.query('CREATE TABLE commands_probe (site_id text NOT NULL)');
  await Promise.all(nodes.map(listening));
}, 60_000);

afterAll(async () => {
  await Promise.all((nodes ?? []).map((each) => each.db.close()));
  cluster?.stop();
});

describe('PostgreSQL ClusterSignals across two nodes', () => {
  it('a committed wake-up reaches the other node, with the rows it is about readable', async () => {
    const [a, b] = nodes;
    const readable: Promise<unknown[]>[] = [];
    const off = b.signals.onCommands((siteIds) => readable.push(b.db.query('SELECT site_id FROM commands_probe WHERE site_id = ANY($1)', [siteIds])));
    await a.db.tx(async (client) => {
      await client.query("INSERT INTO commands_probe VALUES ('site-1'), ('site-2')");
      await a.signals.commandsStored(client, ['site-1', 'site-2', 'site-1']);
    });
    await vi.waitFor(() => expect(b.heard).toEqual([['site-1', 'site-2']]));
    // The sender's node hears it too: one code path on every node.
    await vi.waitFor(() => expect(a.heard).toEqual([['site-1', 'site-2']]));
    expect(await readable[0]).toHaveLength(2);
    off();
    a.heard.length = 0;
    b.heard.length = 0;
  });

  it("the store's command writes wake the other node, with the commands readable there", async () => {
    const [a, b] = nodes;
    const at = new Date().toISOString();
    const site = crypto.randomUUID();
    await pgSites(a.db).create({
      id: site,
      org_id: 'org-a',
      name: 's',
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: site,
    });
    const seqs: Promise<number[]>[] = [];
    const off = b.signals.onCommands(([id]) =>
      seqs.push(
        pgCommands(b.db)
          .pending(id as string, 0, at)
          .then((pending) => pending.map((c) => c.seq)),
      ),
    );
    await pgCommands(a.db).enqueue([1, 2].map(() => ({ siteId: site, build: () => ({ type: 'scan.stop', body: {}, expires_at: null }) })));
    await vi.waitFor(() => expect(b.heard).toEqual([[site]]));
    expect(await seqs[0]).toEqual([1, 2]);
    // The batched read a woken hub makes: the same commands, above the cursor.
    const unsent = await pgCommands(b.db).unsent([{ siteId: site, afterSeq: 1 }], at);
    expect(unsent.get(site)?.map((c) => c.seq)).toEqual([2]);
    off();
    a.heard.length = 0;
    b.heard.length = 0;
  });

  it('a rolled-back transaction wakes nobody', async () => {
    const [a, b] = nodes;
    await expect(
      a.db.tx(async (client) => {
        await notifyCommands(client, ['rolled-back']);
        throw new Error('the write failed');
      }),
    ).rejects.toThrow(/failed/);
    // Notifications arrive in commit order: had the first been sent, it would come before this one.
    await a.db.tx((client) => notifyCommands(client, ['committed']));
    await vi.waitFor(() => expect(b.heard).toEqual([['committed']]));
    expect(a.heard).toEqual([['committed']]);
    a.heard.length = 0;
    b.heard.length = 0;
  });

  it('2,000 sites in one transaction arrive as several payloads under the bound, every site once', async () => {
    const [a, b] = nodes;
    const ids = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`);
    await a.db.tx((client) => notifyCommands(client, ids));
    await vi.waitFor(() => expect(b.heard.flat()).toHaveLength(2000));
    expect(b.heard.length).toBeGreaterThan(1);
    expect(b.heard.flat()).toEqual(ids);
    a.heard.length = 0;
    b.heard.length = 0;
  });

  it('messages travel between the nodes both ways', async () => {
    const [a, b] = nodes;
    await a.signals.publish('cp_test', 'from a');
    await b.signals.publish('cp_test', 'from b');
    await vi.waitFor(() => expect(b.messages).toEqual(['from a', 'from b']));
    await vi.waitFor(() => expect(a.messages).toEqual(['from a', 'from b']));
    a.messages.length = 0;
    b.messages.length = 0;
  });

  it('LISTEN survives the server restarting and says reconnected', async () => {
    const [a, b] = nodes;
    let reconnected = 0;
    b.signals.onReconnected(() => (reconnected += 1));
    cluster.pause();
    cluster.resume();
    await vi.waitFor(() => expect(reconnected).toBe(1), { timeout: 20_000, interval: 100 });
    // The pool's connections died with the server: a transaction on a fresh one, heard by the new LISTEN.
    await vi.waitFor(
      async () => {
        await a.db.tx((client) => notifyCommands(client, ['after-restart']));
        expect(b.heard.flat()).toContain('after-restart');
      },
      { timeout: 20_000, interval: 300 },
    );
  }, 60_000);
});

/**
 * The PostgreSQL store's small modules answer what the SQLite store answers for the same calls,
 * and hold where several nodes write at once (command seqs, login throttling).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import { pgApiTokens } from '../../../src/control-plane/store/postgres/api-tokens.js';
import { pgCommands } from '../../../src/control-plane/store/postgres/commands.js';
import { pgLoginFailures } from '../../../src/control-plane/store/postgres/login-failures.js';
import { pgOperators } from '../../../src/control-plane/store/postgres/operators.js';
import { pgSchedules } from '../../../src/control-plane/store/postgres/schedules.js';
import { pgSessions } from '../../../src/control-plane/store/postgres/sessions.js';
import { pgSites } from '../../../src/control-plane/store/postgres/sites.js';
import type { ControlPlaneStore, StoredSchedule } from '../../../src/control-plane/store/types.js';
import type { PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { tempDir } from '../../helpers/temp.js';
import { migratedDb } from './pg-kit.js';

type Small = Pick<ControlPlaneStore, 'sites' | 'schedules' | 'commands' | 'operators' | 'sessions' | 'apiTokens' | 'loginFailures'>;

const pgSmall = (db: PgDb): Small => ({
  sites: pgSites(db),
  schedules: pgSchedules(db),
  commands: pgCommands(db),
  operators: pgOperators(db),
  sessions: pgSessions(db),
  apiTokens: pgApiTokens(db),
  loginFailures: pgLoginFailures(db),
});

const site = (id: string, org = 'org-a') => ({
  id,
  org_id: org,
  name: `site ${id}`,
  created_at: `2026-01-01T00:00:0${id.length % 10}.000Z`,
  token_rotated_at: '2026-01-01T00:00:00.000Z',
  last_seen_at: null,
  agent_version: null,
  token_hash: `hash-${id}`,
});

const schedule = (id: string, siteIds: string[]): StoredSchedule => ({
  id,
  org_id: 'org-a',
  description: `schedule ${id}`,
  day_of_week: 2,
  time_of_day: '03:30',
  every_n_weeks: 2,
  timezone: 'Europe/Berlin',
  min_cvss: 4,
  warning_threshold: 7.5,
  ignore_offline_sites: true,
  notification_group: 'security-alerts',
  sites: siteIds.map((siteId) => ({ id: siteId, subnet: '10.0.0.0/24' })),
  anchor_at: '2026-01-06T02:30:00.000Z',
  next_scan_at: '2026-01-06T02:30:00.000Z',
  last_run_at: null,
  created_at: `2026-01-0${id.length}T00:00:00.000Z`,
  updated_at: '2026-01-01T00:00:00.000Z',
});

/** One script of calls; what each call answered, in order. */
async function script(store: Small): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const id of ['s1', 's22', 's333']) await store.sites.create(site(id));
  await store.sites.create(site('other', 'org-b'));
  out.push(await store.sites.list(), await store.sites.list('org-a'), await store.sites.get('s22'), await store.sites.byTokenHash('hash-s1'));
  out.push(await store.sites.rotateToken('s1', 'new-hash', '2026-02-01T00:00:00.000Z'), await store.sites.rotateToken('gone', 'h', 'x'));
  await store.sites.recordSeen([
    { id: 's1', at: '2026-02-02T00:00:00.000Z', agentVersion: '1.0.0' },
    { id: 's22', at: '2026-02-03T00:00:00.000Z', agentVersion: '1.1.0' },
  ]);
  await store.sites.recordFeed([{ id: 's1', version: 7, data_as_of: { nvd: '2026-02-01' }, at: '2026-02-02T00:00:00.000Z' }]);
  out.push(await store.sites.list('org-a'), Object.fromEntries(await store.sites.feeds('org-a')));

  const build = (type: string) => (seq: number) => ({ type, body: { seq, type }, expires_at: seq === 2 ? '2026-01-01T00:00:00.000Z' : null });
  out.push(await store.schedules.insert(schedule('sch', ['s1', 's22']), [{ siteId: 's1', build: build('schedule.upsert') }]));
  out.push(await store.schedules.insert(schedule('sch2', ['s1']), []));
  out.push(await store.schedules.list('org-a'), await store.schedules.get('org-a', 'sch'), await store.schedules.get('org-b', 'sch'));
  out.push(await store.schedules.replace({ ...schedule('sch', ['s22']), description: 'changed' }, [{ siteId: 's22', build: build('schedule.upsert') }]));
  out.push(await store.schedules.replace(schedule('gone', ['s1']), [{ siteId: 's1', build: build('never') }]));
  out.push(await store.schedules.due('2026-01-06T02:30:00.000Z'), await store.schedules.due('2026-01-06T02:29:59.999Z'));
  await store.schedules.setTiming('sch', '2026-01-20T02:30:00.000Z', '2026-01-06T02:30:00.000Z');
  await store.schedules.setTiming('sch', '2026-02-03T02:30:00.000Z', null);
  out.push(await store.schedules.get('org-a', 'sch'));
  out.push(await store.schedules.delete('org-a', 'sch2', [{ siteId: 's1', build: build('schedule.delete') }]), await store.schedules.delete('org-a', 'sch2'));

  out.push(
    await store.commands.enqueue([
      { siteId: 's1', build: build('a') },
      { siteId: 's22', build: build('b') },
      { siteId: 's1', build: build('c') },
    ]),
  );
  out.push(await store.commands.pending('s1', 0, '2026-06-01T00:00:00.000Z'), await store.commands.pending('s1', 3, '2026-06-01T00:00:00.000Z'));
  await store.commands.ack([
    { siteId: 's22', seq: 1 },
    { siteId: 's22', seq: 2 },
  ]);
  out.push(await store.commands.pending('s22', 0, '2025-01-01T00:00:00.000Z'));

  const operator = (id: string, email: string, org = 'org-a') => ({
    id,
    org_id: org,
    email,
    name: id,
    role: 'admin' as const,
    password_hash: 'scrypt$x',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    sessions_valid_after: '2026-01-01T00:00:00.000Z',
  });
  out.push(await store.operators.create(operator('op1', 'a@example.com')), await store.operators.create(operator('op2', 'a@example.com')));
  out.push(await store.operators.create(operator('op3', 'b@example.com', 'org-b')));
  out.push(await store.operators.byEmail('A@example.com'), await store.operators.list(), await store.operators.list('org-b'));
  const session = (hash: string, at: string) => ({
    token_hash: hash,
    operator_id: 'op1',
    csrf_token: 'c',
    created_at: at,
    last_seen_at: at,
    expires_at: '2026-03-01T00:00:00.000Z',
  });
  await store.sessions.create(session('t1', '2026-01-02T00:00:00.000Z'));
  await store.sessions.create(session('t2', '2026-01-03T00:00:00.000Z'));
  await store.sessions.touch('t1', '2026-01-05T00:00:00.000Z');
  out.push(await store.sessions.get('t1'));
  await store.sessions.prune('2026-02-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z');
  out.push(await store.sessions.get('t1'), await store.sessions.get('t2'));
  out.push(await store.operators.setPassword('op1', 'scrypt$y', '2026-01-06T00:00:00.000Z'), await store.sessions.get('t1'), await store.operators.get('op1'));
  await store.sessions.create(session('t3', '2026-01-07T00:00:00.000Z'));
  await store.operators.endSessions('op1', '2026-01-08T00:00:00.000Z');
  out.push(await store.sessions.get('t3'), await store.operators.get('op1'), await store.operators.remove('op3'), await store.operators.remove('op3'));

  const token = (id: string, at: string) => ({
    id,
    org_id: 'org-a',
    name: id,
    scopes: ['cve:view', 'cve:create'],
    created_by: 'op1',
    created_at: at,
    expires_at: '2027-01-01T00:00:00.000Z',
    revoked_at: null,
  });
  await store.apiTokens.create(token('j1', '2026-01-01T00:00:00.000Z'));
  await store.apiTokens.create(token('j2', '2026-01-02T00:00:00.000Z'));
  out.push(await store.apiTokens.revoke('org-a', 'j1', '2026-01-03T00:00:00.000Z'), await store.apiTokens.revoke('org-a', 'j1', '2026-01-04T00:00:00.000Z'));
  out.push(await store.apiTokens.revoke('org-b', 'j2', '2026-01-04T00:00:00.000Z'), await store.apiTokens.list('org-a'), await store.apiTokens.get('j1'));

  const since = '2026-01-01T00:00:00.000Z';
  for (let i = 1; i <= 3; i++) out.push(await store.loginFailures.attempt(['email:a', 'ip:1'], `2026-01-01T00:0${i}:00.000Z`, since, 3));
  out.push(await store.loginFailures.attempt(['email:a', 'ip:2'], '2026-01-01T00:05:00.000Z', since, 3));
  out.push(await store.loginFailures.attempt(['email:b', 'ip:2'], '2026-01-01T00:06:00.000Z', since, 3));
  return out;
}

/** Login failure ids are each engine's own row numbers: compare their count, not their value. */
const comparable = (answers: unknown[]) =>
  JSON.parse(JSON.stringify(answers, (key, value: unknown) => (key === 'ids' && Array.isArray(value) ? `${value.length} ids` : value))) as unknown[];

describe('PostgreSQL store: sites, schedules, commands, operators, sessions, tokens, login failures', () => {
  it('answers every call as the SQLite store does', async () => {
    const sqlite = openSqliteStore({ stateDir: tempDir('cp-sqlite-'), logger: pino({ level: 'silent' }), ingestThread: false });
    try {
      const { db } = await migratedDb();
      const expected = comparable(await script(sqlite));
      const actual = comparable(await script(pgSmall(db)));
      for (const [index, answer] of expected.entries()) expect(actual[index], `answer ${index}`).toEqual(answer);
    } finally {
      await sqlite.close();
    }
  });

  it('gives every command of a site its own seq when several nodes write at once', async () => {
    const { db, open } = await migratedDb();
    const nodes = [db, open(), open()].map(pgSmall);
    await nodes[0]!.sites.create(site('s1'));
    await nodes[0]!.sites.create(site('s2'));
    const writes = nodes.flatMap((node, n) =>
      Array.from({ length: 10 }, (_, i) =>
        node.commands.enqueue([
          { siteId: i % 2 ? 's1' : 's2', build: () => ({ type: 'x', body: { n, i }, expires_at: null }) },
          { siteId: i % 2 ? 's2' : 's1', build: () => ({ type: 'y', body: { n, i }, expires_at: null }) },
        ]),
      ),
    );
    await Promise.all(writes);
    for (const id of ['s1', 's2']) {
      const pending = await nodes[1]!.commands.pending(id, 0, '2026-01-01T00:00:00.000Z');
      expect(pending.map((command) => command.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
  });

  it('lets parallel guesses on several nodes through only up to the limit', async () => {
    const { db, open } = await migratedDb();
    const nodes = [db, open(), open()].map(pgSmall);
    const since = '2026-01-01T00:00:00.000Z';
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => nodes[i % 3]!.loginFailures.attempt(['email:victim', `ip:${i}`], '2026-01-01T00:01:00.000Z', since, 5)),
    );
    expect(answers.filter((answer) => 'ids' in answer)).toHaveLength(5);
  });
});

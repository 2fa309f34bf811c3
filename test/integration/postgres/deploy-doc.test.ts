/**
 * docs/deploy-cluster.md, run as written against the throwaway cluster: its SQL makes the role and
 * the C-collated database, that role (no superuser) migrates the schema, strangers cannot connect,
 * and its pg_dump / createdb / pg_restore lines give back the same data. Names get a suffix so the
 * cluster-wide roles cannot clash with another run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import { openPgDb, type PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { migratePostgres, schemaVersion } from '../../../src/control-plane/store/postgres/migrate.js';
import { pgSites } from '../../../src/control-plane/store/postgres/sites.js';
import { tempDir } from '../../helpers/temp.js';

const doc = readFileSync(new URL('../../../docs/deploy-cluster.md', import.meta.url), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([^]*?)\`\`\``, 'g'))].map((match) => match[1] as string);
const suffix = `_${process.pid}`;
/** The doc's names with this run's suffix: cve, cve_cp, cve_backup, cve_restored. */
const named = (text: string) => text.replace(/\b(cve_cp|cve_backup|cve_restored|cve)\b/g, `$1${suffix}`);

const admin = new URL(inject('postgresUrl'));
const urlOf = (role: string, database: string) => `postgresql://${role}@${admin.hostname}:${admin.port}/${database}`;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('docs/deploy-cluster.md on a real PostgreSQL', () => {
  it('the role and database it creates run the migrations, refuse strangers, and survive its pg_dump and pg_restore', async () => {
    const [setup, backupRole] = blocks('sql');
    expect(setup).toContain("LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    const dir = tempDir('deploy-doc-');
    const env = { ...process.env, PGHOST: admin.hostname, PGPORT: admin.port, PGUSER: 'postgres' };
    cleanup.push(() =>
      asAdmin(
        `DROP DATABASE IF EXISTS cve${suffix} WITH (FORCE); DROP DATABASE IF EXISTS cve_restored${suffix} WITH (FORCE);` +
          ` DROP ROLE IF EXISTS cve_backup${suffix}; DROP ROLE IF EXISTS cve_cp${suffix}; DROP ROLE IF EXISTS stranger${suffix}`,
      ),
    );
    for (const [i, sql] of [setup, backupRole].entries()) {
      const file = path.join(dir, `${i}.sql`);
      writeFileSync(file, named(sql as string));
      execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-f', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    }

    // The owner role, no superuser, applies every migration (the collation check passes).
    const logger = pino({ level: 'silent' });
    const open = (url: string): PgDb => {
      const db = openPgDb({ url, logger, max: 2 });
      cleanup.push(() => db.close());
      return db;
    };
    const db = open(urlOf(`cve_cp${suffix}`, `cve${suffix}`));
    await migratePostgres(db, controlPlaneMigrations, logger);
    const latest = controlPlaneMigrations.at(-1)?.version;
    expect(await schemaVersion(db)).toBe(latest);
    await expect(db.query('CREATE DATABASE not_allowed')).rejects.toMatchObject({ code: '42501' });
    const at = '2026-12-05T12:00:00.000Z';
    await pgSites(db).create({
      id: '0193a1b2-0000-7000-8000-000000000001',
      org_id: 'org-a',
      name: 'Main office',
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: 'hash',
    });
    // REVOKE ALL ... FROM PUBLIC: a role the doc did not grant cannot even connect.
    await asAdmin(`CREATE ROLE stranger${suffix} LOGIN`);
    const stranger = new pg.Client({ connectionString: urlOf(`stranger${suffix}`, `cve${suffix}`) });
    await expect(stranger.connect()).rejects.toMatchObject({ code: '42501' });

    // Backup as the read-only role and restore, with the doc's own command lines.
    const shell = blocks('sh')
      .join('\n')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((line) => /^(pg_dump|sudo -u postgres (createdb|pg_restore))/.test(line))
      .map((line) =>
        // The dump's path first: it holds `$(date +%F)`, and the doc's names inside it are not names.
        named(line.replace(/\/var\/backups\/cve-(\$\(date \+%F\)|[\d-]+)\.dump/g, path.join(dir, 'backup.dump')))
          .replace(/^sudo -u postgres /, '')
          .replace('db.example.net', `${admin.hostname}:${admin.port}`),
      );
    expect(shell.map((line) => line.split(' ')[0])).toEqual(['pg_dump', 'createdb', 'pg_restore']);
    for (const line of [shell[0], shell[2]]) expect(line).toContain(path.join(dir, 'backup.dump'));
    for (const line of shell) execFileSync('sh', ['-c', line], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const restored = open(urlOf(`cve_cp${suffix}`, `cve_restored${suffix}`));
    expect(await schemaVersion(restored)).toBe(latest);
    expect(await pgSites(restored).list()).toEqual(await pgSites(db).list());
    expect(await restored.query("SELECT tableowner FROM pg_tables WHERE tablename = 'sites'")).toEqual([{ tableowner: `cve_cp${suffix}` }]);
    const [collation] = await restored.query<{ datcollate: string }>('SELECT datcollate FROM pg_database WHERE datname = current_database()');
    expect(collation?.datcollate).toBe('C');
  });
});

/**
 * A throwaway PostgreSQL cluster for the tests: Debian's server binaries, `initdb` and `pg_ctl`
 * in a temporary directory, listening on one loopback port only, run as the `postgres` user when
 * the tests run as root (PostgreSQL refuses to run as root). Stopped and removed afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  host: string;
  port: number;
  dataDir: string;
  stop(): void;
  /** pg_ctl stop -m fast, keeping the data: a test of the database going away. */
  pause(): void;
  /** Starts it again on the same port after pause(). */
  resume(): void;
}

/** Debian puts the server binaries in /usr/lib/postgresql/<major>/bin, not on PATH. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/apt-packages)');
  return path.join(root, majors[0] as string, 'bin');
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const asRoot = userInfo().uid === 0;

function run(bin: string, args: string[], cwd: string): void {
  const command = asRoot ? 'runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export async function startPostgres(options: { host?: string } = {}): Promise<PostgresCluster> {
  const bin = postgresBin();
  const host = options.host ?? '127.0.0.1';
  const root = mkdtempSync(path.join(tmpdir(), 'edge-cve-pg-'));
  const dataDir = path.join(root, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  // C collation: timestamps are ISO 8601 text and must sort byte-wise, as in SQLite (docs/deploy-cluster.md).
  run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync'], root);
  const port = await freePort(host);
  writeFileSync(path.join(root, 'README'), 'a throwaway PostgreSQL cluster of the edge-cve tests\n');
  const options_ = `-c listen_addresses=${host} -p ${port} -k ${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`;
  const start = () => run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-l', path.join(root, 'log'), '-w', '-t', '60', '-o', options_, 'start'], root);
  const stopServer = (mode: string) => run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', 'stop'], root);
  start();
  let running = true;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    host,
    port,
    dataDir,
    pause() {
      stopServer('fast');
      running = false;
    },
    resume() {
      start();
      running = true;
    },
    stop() {
      try {
        if (running) stopServer('immediate');
      } finally {
        running = false;
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

let counter = 0;

/** A new empty database on the cluster (one per test harness); returns its URL. */
export async function createDatabase(clusterUrl: string, prefix = 'edge_cve'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = new pg.Client({ connectionString: clusterUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by createDatabase, ending any connection left to it. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

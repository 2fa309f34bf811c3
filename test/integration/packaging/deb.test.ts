/**
 * The .deb packages of `npm run package` on this machine, for real: built, installed with
 * apt-get, run as systemd would run them, upgraded, purged. It installs into the live system, so
 * it needs root (CI runs as root) and fails, not skips, without it.
 *
 * Packages: `Depends: nodejs (>= 20.19), nodejs (<< 21)` is met by the machine's own nodejs,
 * a Debian package (NodeSource's build, as an admin on Debian 12 would install it; Debian 12's
 * nodejs is 18). If this host's node is not from a nodejs package, the test fails at the
 * apt-get install with apt's own unmet-dependency message rather than faking a nodejs package:
 * the dependency is the point.
 *
 * PID 1 here is not systemd, so the units' ExecStart is driven directly: parsed from the
 * installed unit file, run under its User=, Group=, WorkingDirectory=, UMask= and environment
 * (Environment=, STATE_DIRECTORY and CONFIGURATION_DIRECTORY as systemd sets them), with
 * NOTIFY_SOCKET on a datagram socket this test reads, until READY=1 from the process's own pid
 * (NotifyAccess=main).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifyListener } from '../../helpers/notify-listener.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NAMES = ['cve-agent', 'cve-control-plane'] as const;
type Name = (typeof NAMES)[number];
const VERSION = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const UPGRADE = `${VERSION}+upgradetest1`;
const ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const SITE_ID = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const SCHEDULE_ID = '0d6c2b1e-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
const CP_SITE_ID = '7e5d4c3b-2a19-4f08-9e7d-6c5b4a392817';
// A CVE the starter feed lacks, so cve.db's count shows the import survived the upgrade.
const MARKER_CVE = 'CVE-2099-10001';
const LONG = 600_000;

let work: string;
const createdUsers: Name[] = [];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(result.status, `${cmd} ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

// unsafe-io: no fsync per unpacked file (about 10,000 per package), which only a crash would need.
const apt = (...args: string[]) =>
  run('apt-get', ['-y', '-q', '-o', 'DPkg::Lock::Timeout=300', '-o', 'DPkg::Options::=--force-unsafe-io', ...args], { DEBIAN_FRONTEND: 'noninteractive' });
const installed = (name: string) => spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout.trim();
/** Installed, half-installed or only its conffiles left: anything that a purge would clear. */
const present = (name: string) => !['', 'unknown ok not-installed'].includes(installed(name));
const userExists = (name: string) => spawnSync('getent', ['passwd', name]).status === 0;
const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
const owner = (path: string) => {
  const st = statSync(path);
  const name = (db: string, id: number) => spawnSync('getent', [db, String(id)], { encoding: 'utf8' }).stdout.split(':')[0];
  return `${name('passwd', st.uid)}:${name('group', st.gid)}`;
};

/** `npm run package`'s script into its own directory, uncompressed to keep the test quick. */
function buildPackages(version: string): Record<Name, string> {
  const out = join(work, `debs-${version}`);
  run('bash', [join(repo, 'scripts/package-deb.sh')], { DEB_VERSION: version, DEB_OUT: out, DEB_COMPRESSION: 'none' });
  return { 'cve-agent': join(out, `cve-agent_${version}_${ARCH}.deb`), 'cve-control-plane': join(out, `cve-control-plane_${version}_${ARCH}.deb`) };
}

interface Unit {
  execStart: string[];
  user: string;
  group: string;
  workingDirectory: string;
  umask: string;
  env: Record<string, string>;
}

/** The [Service] settings of an installed unit that this test has to reproduce without systemd. */
function readUnit(name: Name): Unit {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(`/lib/systemd/system/${name}.service`, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    const eq = line.indexOf('=');
    if (section !== '[Service]' || line.startsWith('#') || eq < 0) continue;
    const key = line.slice(0, eq);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  const one = (key: string): string => {
    const values = settings.get(key) ?? [];
    expect(values, `${name}.service: exactly one ${key}=`).toHaveLength(1);
    return values[0] ?? '';
  };
  const execStart = one('ExecStart');
  // Quotes, specifiers and prefixes (-@:+!) would need systemd's own parser.
  expect(execStart, 'ExecStart is a plain command line').toMatch(/^\/[^"'%$\\]*$/);
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    STATE_DIRECTORY: `/var/lib/${one('StateDirectory')}`,
    CONFIGURATION_DIRECTORY: `/etc/${one('ConfigurationDirectory')}`,
  };
  for (const assignment of (settings.get('Environment') ?? []).flatMap((value) => value.split(/\s+/))) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return { execStart: execStart.split(/\s+/), user: one('User'), group: one('Group'), workingDirectory: one('WorkingDirectory'), umask: one('UMask'), env };
}

/** Runs a command as the unit's user, group, umask, directory and environment (what systemd would set up). */
function spawnAsUnit(unit: Unit, argv: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  const passwd = spawnSync('getent', ['passwd', unit.user], { encoding: 'utf8' }).stdout.trim().split(':');
  // sh sets the umask, then every step exec()s, so the pid spawn() returns is node's.
  return spawn(
    '/bin/sh',
    ['-c', `umask ${unit.umask} && exec "$@"`, 'sh', 'setpriv', '--reuid', unit.user, '--regid', unit.group, '--clear-groups', '--', ...argv],
    {
      cwd: unit.workingDirectory,
      env: { ...unit.env, USER: unit.user, LOGNAME: unit.user, HOME: passwd[5], SHELL: passwd[6], ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** A CLI command of the package as its service user (how an admin runs one: runuser -u NAME -- ...). */
function cliAsUser(name: Name, args: string[]): string {
  const result = spawnSync('runuser', ['-u', name, '--', `/usr/bin/${name}`, ...args, '--config', `/etc/${name}/config.yaml`], { encoding: 'utf8' });
  // Who owns what in the state directory, when the command could not write it.
  const state = result.status === 0 ? '' : spawnSync('ls', ['-la', `/var/lib/${name}`], { encoding: 'utf8' }).stdout;
  expect(result.status, `${name} ${args.join(' ')}:\n${result.stdout}\n${result.stderr}\n${state}`).toBe(0);
  return result.stdout;
}

interface Started {
  logs: string;
  pid: number;
}

/** The unit's ExecStart until READY=1 from its main pid, then SIGTERM and a clean exit. */
async function startUntilReady(name: Name): Promise<Started> {
  const notify = await startNotifyListener(join(mkdtempSync(join(work, 'notify-')), 'notify.sock'));
  // The service user sends to it: systemd's socket is writable by every unit's user too.
  chmodSync(dirname(notify.address), 0o755);
  chmodSync(notify.address, 0o666);
  const unit = readUnit(name);
  const child = spawnAsUnit(unit, unit.execStart, { NOTIFY_SOCKET: notify.address });
  let logs = '';
  child.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const received = await Promise.race([
      notify.waitFor((all) => all.some((d) => d.data.split('\n').includes('READY=1')), 60_000),
      exited.then((code) => Promise.reject(new Error(`${name} exited with ${code} before READY=1:\n${logs}`))),
    ]);
    const ready = received.find((d) => d.data.split('\n').includes('READY=1'));
    expect(ready?.pid, 'READY=1 comes from the main pid (NotifyAccess=main)').toBe(child.pid);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, logs).toBe(0);
  return { logs, pid: child.pid! };
}

function writeConfig(name: Name, text: string): void {
  const path = `/etc/${name}/config.yaml`;
  writeFileSync(path, text, { mode: 0o640 });
  const gid = Number(run('getent', ['group', name]).split(':')[2]);
  chownSync(path, 0, gid);
}

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error('test/integration/packaging/deb.test.ts installs .deb packages into this system: run it as root (CI does)');
  }
  for (const name of NAMES) {
    if (!userExists(name)) createdUsers.push(name);
    // A leftover install (an earlier run killed halfway) would hide what a fresh install does.
    if (present(name)) apt('purge', name);
  }
  work = mkdtempSync(join(tmpdir(), 'deb-test-'));
  // apt's _apt user reads the .deb files.
  chmodSync(work, 0o755);
}, LONG);

afterAll(() => {
  const left = NAMES.filter(present);
  if (left.length > 0) spawnSync('apt-get', ['-y', '-q', 'purge', ...left], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  // Users the packages leave on purge (by design), removed when this test made them.
  for (const name of createdUsers) {
    spawnSync('userdel', [name]);
    spawnSync('groupdel', [name]);
  }
  if (work) rmSync(work, { recursive: true, force: true });
}, LONG);

describe('the Debian packages', () => {
  let debs: Record<Name, string>;
  let beforeUpgrade: { schedules: string; feedImport: unknown; cves: number; sites: string };

  it(
    'builds cve-agent and cve-control-plane .debs that depend on node >= 20.19 and own their own files',
    () => {
      debs = buildPackages(VERSION);
      const files = { 'cve-agent': [] as string[], 'cve-control-plane': [] as string[] };
      for (const name of NAMES) {
        expect(existsSync(debs[name]), debs[name]).toBe(true);
        expect(run('dpkg-deb', ['-f', debs[name], 'Package', 'Version', 'Architecture'])).toBe(
          `Package: ${name}\nVersion: ${VERSION}\nArchitecture: ${ARCH}\n`,
        );
        expect(run('dpkg-deb', ['-f', debs[name], 'Depends'])).toMatch(/^nodejs \(>= 20\.19\), nodejs \(<< 21\), adduser$/m);
        files[name] = run('sh', ['-c', `dpkg-deb -c "$1" | awk '{print $6}'`, 'sh', debs[name]])
          .split('\n')
          .filter((f) => f && !f.endsWith('/'));
      }
      expect(files['cve-agent']).toContain('./usr/bin/cve-agent');
      expect(files['cve-control-plane']).toContain('./lib/systemd/system/cve-control-plane.service');
      // dpkg refuses two packages with the same file: both can be installed on one host.
      expect(files['cve-agent'].filter((f) => files['cve-control-plane'].includes(f))).toEqual([]);
    },
    LONG,
  );

  it(
    'installs with apt-get: system users, directories, modes, the conffile, the enabled units',
    () => {
      apt('install', debs['cve-agent'], debs['cve-control-plane']);
      for (const name of NAMES) {
        expect(installed(name)).toBe('install ok installed');
        const passwd = run('getent', ['passwd', name]).trim().split(':');
        expect(Number(passwd[2]), 'a system uid').toBeLessThan(1000);
        expect(passwd[5]).toBe(`/var/lib/${name}`);
        expect(passwd[6]).toBe('/usr/sbin/nologin');
        expect(run('id', ['-gn', name]).trim()).toBe(name);

        expect(owner(`/var/lib/${name}`)).toBe(`${name}:${name}`);
        expect(mode(`/var/lib/${name}`)).toBe('0750');
        expect(owner(`/etc/${name}`)).toBe(`root:${name}`);
        expect(mode(`/etc/${name}`)).toBe('0750');
        // The example is the conffile; config.yaml is the admin's, and its absence keeps the unit stopped.
        expect(run('dpkg-query', ['-W', '-f=${Conffiles}', name])).toMatch(new RegExp(`^ /etc/${name}/config\\.example\\.yaml [0-9a-f]{32}$`));
        expect(existsSync(`/etc/${name}/config.yaml`)).toBe(false);
        expect(readFileSync(`/lib/systemd/system/${name}.service`, 'utf8')).toContain(`\nConditionPathExists=/etc/${name}/config.yaml\n`);
        // Enabled without a running systemd: deb-systemd-helper wrote the WantedBy link.
        expect(existsSync(`/etc/systemd/system/multi-user.target.wants/${name}.service`)).toBe(true);

        expect(mode(`/usr/bin/${name}`)).toBe('0755');
        expect(existsSync(`/usr/lib/${name}/node_modules/better-sqlite3`)).toBe(true);
        expect(existsSync(`/usr/lib/${name}/node_modules/typescript`), 'no dev dependencies').toBe(false);
        expect(run(`/usr/bin/${name}`, ['--version']).trim()).toMatch(/^\d+\.\d+\.\d+/);
      }
    },
    LONG,
  );

  it(
    "runs each unit's ExecStart as its service user until READY=1, with state the upgrade must keep",
    async () => {
      writeConfig('cve-agent', `config_version: 1\nsite_id: ${SITE_ID}\nlog_level: info\nsubnets:\n  - 127.0.110.0/24\n`);
      writeConfig(
        'cve-control-plane',
        `config_version: 1\nlog_level: info\nlisten:\n  host: 127.0.110.1\n  port: 0\npublic_url: http://127.0.110.1\nauth:\n  hs256_secret: ${'k'.repeat(48)}\n`,
      );
      expect(run('runuser', ['-u', 'cve-agent', '--', 'cve-agent', 'check-config', '--config', '/etc/cve-agent/config.yaml'])).toContain(
        'state in /var/lib/cve-agent',
      );

      const agent = await startUntilReady('cve-agent');
      expect(agent.logs).toContain('"applied database migration"');
      const controlPlane = await startUntilReady('cve-control-plane');
      expect(controlPlane.logs).toContain('127.0.110.1');

      // State worth keeping: a schedule in agent.db, an imported CVE in cve.db, a site in control-plane.db.
      cliAsUser('cve-agent', ['schedules', 'add', '--day', '0', '--time', '02:30', '--timezone', 'UTC', '--id', SCHEDULE_ID]);
      const record = JSON.parse(readFileSync(join(repo, 'test/fixtures/nvd/records/CVE-2018-14847.json'), 'utf8')) as { id?: string; cve?: { id: string } };
      const marker = join(work, `${MARKER_CVE}.json`);
      writeFileSync(marker, JSON.stringify(record).replaceAll('CVE-2018-14847', MARKER_CVE), { mode: 0o644 });
      cliAsUser('cve-agent', ['feed', 'import', marker]);
      cliAsUser('cve-control-plane', ['sites', 'add', '--org', 'acme', '--name', 'closet', '--id', CP_SITE_ID]);

      const status = JSON.parse(cliAsUser('cve-agent', ['--json', 'feed', 'status'])) as { cves: number; last_import: unknown };
      beforeUpgrade = {
        schedules: cliAsUser('cve-agent', ['--json', 'schedules', 'list']),
        feedImport: status.last_import,
        cves: status.cves,
        sites: cliAsUser('cve-control-plane', ['sites', 'list']),
      };
      expect(beforeUpgrade.schedules).toContain(SCHEDULE_ID);
      expect(beforeUpgrade.sites).toContain(CP_SITE_ID);
      for (const [name, files] of [
        ['cve-agent', ['agent.db', 'cve.db']],
        ['cve-control-plane', ['control-plane.db']],
      ] as const) {
        for (const file of files) expect(owner(`/var/lib/${name}/${file}`), file).toBe(`${name}:${name}`);
        // UMask=0077: nobody but the service user reads the databases.
        for (const file of files) expect(mode(`/var/lib/${name}/${file}`), file).toBe('0600');
      }
    },
    LONG,
  );

  it(
    'upgrades to a rebuilt package with a bumped version, keeping the databases and the config',
    async () => {
      const configs = Object.fromEntries(NAMES.map((name) => [name, readFileSync(`/etc/${name}/config.yaml`, 'utf8')]));
      const upgrade = buildPackages(UPGRADE);
      apt('install', upgrade['cve-agent'], upgrade['cve-control-plane']);
      for (const name of NAMES) {
        expect(run('dpkg-query', ['-W', '-f=${Version} ${Status}', name])).toBe(`${UPGRADE} install ok installed`);
        expect(readFileSync(`/etc/${name}/config.yaml`, 'utf8')).toBe(configs[name]);
        expect(owner(`/var/lib/${name}`)).toBe(`${name}:${name}`);
      }

      const agent = await startUntilReady('cve-agent');
      // The same databases, already at their schema: nothing to migrate, nothing re-imported.
      expect(agent.logs).not.toContain('"applied database migration"');
      await startUntilReady('cve-control-plane');

      const status = JSON.parse(cliAsUser('cve-agent', ['--json', 'feed', 'status'])) as { cves: number; last_import: unknown };
      expect(cliAsUser('cve-agent', ['--json', 'schedules', 'list'])).toBe(beforeUpgrade.schedules);
      expect(status.cves).toBe(beforeUpgrade.cves);
      expect(status.last_import).toEqual(beforeUpgrade.feedImport);
      expect(cliAsUser('cve-control-plane', ['sites', 'list'])).toBe(beforeUpgrade.sites);
    },
    LONG,
  );

  it(
    'purges: the state, config and app are gone; the system users stay (Debian practice)',
    () => {
      apt('purge', 'cve-agent', 'cve-control-plane');
      for (const name of NAMES) {
        expect(present(name)).toBe(false);
        for (const path of [`/var/lib/${name}`, `/etc/${name}`, `/usr/lib/${name}`, `/usr/bin/${name}`, `/lib/systemd/system/${name}.service`]) {
          expect(existsSync(path), path).toBe(false);
        }
        expect(existsSync(`/etc/systemd/system/multi-user.target.wants/${name}.service`)).toBe(false);
        expect(userExists(name)).toBe(true);
      }
    },
    LONG,
  );
});

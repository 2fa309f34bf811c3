import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Stands in for the CLI when the checkout has not been built. It imports commander so that
// its --help also proves the installed node_modules resolves.
const FAKE_CLI = `#!/usr/bin/env node
import { Command } from 'commander';
const program = new Command('cve-agent').description('edge-cve site agent (test stand-in)');
program.command('run').description('run the daemon').action(() => {});
program.parse();
`;

let work: string;
let tree: string;
let fakeBin: string;
let calls: string;

/**
 * A copy of the checkout as install.sh expects it, so the test can add a fake dist without
 * touching the real tree (other work may be building it at the same time).
 */
function copyTree(into: string): void {
  mkdirSync(join(into, 'scripts'), { recursive: true });
  mkdirSync(join(into, 'systemd'));
  mkdirSync(join(into, 'scripts', 'lib'));
  for (const f of [
    'package.json',
    'package-lock.json',
    'config.example.yaml',
    'control-plane.example.yaml',
    'scripts/install.sh',
    'scripts/lib/stage-app.sh',
    'systemd/cve-agent.service',
    'systemd/cve-control-plane.service',
  ]) {
    cpSync(join(repo, f), join(into, f));
  }
  cpSync(join(repo, 'data'), join(into, 'data'), { recursive: true });
  if (existsSync(join(repo, 'dist', 'cli', 'cve-agent.js'))) {
    cpSync(join(repo, 'dist'), join(into, 'dist'), { recursive: true });
  } else {
    mkdirSync(join(into, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(into, 'dist', 'cli', 'cve-agent.js'), FAKE_CLI);
    writeFileSync(join(into, 'dist', 'cli', 'cve-control-plane.js'), FAKE_CLI.replaceAll('cve-agent', 'cve-control-plane'));
  }
  // cp -R keeps node_modules/.bin symlinks as symlinks and is much faster than cpSync here.
  const cp = spawnSync('cp', ['-R', join(repo, 'node_modules'), join(into, 'node_modules')]);
  expect(cp.status, cp.stderr?.toString()).toBe(0);
}

function install(destdir: string, root = tree, args: string[] = []): SpawnSyncReturns<string> {
  return spawnSync('bash', [join(root, 'scripts', 'install.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DESTDIR: destdir, PATH: `${fakeBin}:${process.env.PATH ?? ''}` },
  });
}

const mode = (path: string): string => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

const groupExists = (name: string): boolean => spawnSync('getent', ['group', name]).status === 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'install-test-'));
  tree = join(work, 'tree');
  copyTree(tree);
  // useradd and systemctl must not run for a DESTDIR install; these record any call.
  fakeBin = join(work, 'bin');
  calls = join(work, 'calls.log');
  mkdirSync(fakeBin);
  writeFileSync(calls, '');
  for (const tool of ['useradd', 'systemctl', 'groupadd', 'adduser']) {
    writeFileSync(join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`);
    chmodSync(join(fakeBin, tool), 0o755);
  }
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
}, 180_000);

// Each install copies and prunes the checkout's node_modules (about 270 MB): tens of seconds on a busy machine.
describe('scripts/install.sh with DESTDIR', { timeout: 180_000 }, () => {
  let dest: string;

  beforeAll(() => {
    dest = join(work, 'dest');
  });

  it('installs the app, wrapper, unit, config and state directory with their modes', () => {
    // Read before: another test may create the group while this one runs.
    const hadGroup = groupExists('cve-agent');
    const run = install(dest);
    expect(run.status, run.stderr).toBe(0);

    const app = join(dest, 'usr/lib/cve-agent');
    for (const f of ['dist/cli/cve-agent.js', 'package.json', 'package-lock.json']) {
      expect(readFileSync(join(app, f), 'utf8')).toBe(readFileSync(join(tree, f), 'utf8'));
    }
    expect(existsSync(join(app, 'node_modules/better-sqlite3/package.json'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/unix-dgram/package.json'))).toBe(true);
    expect(existsSync(join(app, 'data/feed/starter-feed.json.gz'))).toBe(true);
    // Pruned in the copy only: dev tools gone from the install, still in the source tree.
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(tree, 'node_modules/typescript'))).toBe(true);
    expect(readdirSync(join(dest, 'usr/lib'))).toEqual(['cve-agent']);
    expect(mode(app)).toBe('0755');

    const unit = join(dest, 'lib/systemd/system/cve-agent.service');
    expect(readFileSync(unit, 'utf8')).toBe(readFileSync(join(tree, 'systemd/cve-agent.service'), 'utf8'));
    expect(mode(unit)).toBe('0644');

    const config = join(dest, 'etc/cve-agent/config.yaml');
    expect(readFileSync(config, 'utf8')).toBe(readFileSync(join(tree, 'config.example.yaml'), 'utf8'));
    expect(mode(config)).toBe('0640');
    expect(mode(join(dest, 'etc/cve-agent'))).toBe('0750');
    if (!hadGroup) {
      expect(run.stdout).toContain('install.sh: note: left /etc/cve-agent/config.yaml in its current group');
    }

    const state = join(dest, 'var/lib/cve-agent');
    expect(statSync(state).isDirectory()).toBe(true);
    expect(mode(state)).toBe('0750');

    expect(mode(join(dest, 'usr/bin/cve-agent'))).toBe('0755');
    expect(run.stdout).toContain('systemctl enable --now cve-agent');
    expect(readFileSync(calls, 'utf8')).toBe('');
  });

  it('runs the installed cve-agent --help through the wrapper', () => {
    const help = spawnSync(join(dest, 'usr/bin/cve-agent'), ['--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cve-agent /);
    expect(help.stdout).toMatch(/^ {2}run\b/m);
  });

  it('keeps an edited config on a second run and replaces the app whole', () => {
    const config = join(dest, 'etc/cve-agent/config.yaml');
    appendFileSync(config, '\n# edited by the operator\n');
    const edited = readFileSync(config, 'utf8');
    const stale = join(dest, 'usr/lib/cve-agent/dist/stale-from-old-release.js');
    writeFileSync(stale, '');
    // Where releases before the control plane's install put the agent.
    mkdirSync(join(dest, 'usr/lib/edge-cve/dist'), { recursive: true });

    const run = install(dest);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('install.sh: kept the existing /etc/cve-agent/config.yaml');
    expect(run.stdout).toContain("install.sh: removed the previous release's /usr/lib/edge-cve");
    expect(readFileSync(config, 'utf8')).toBe(edited);
    expect(mode(config)).toBe('0640');
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(join(dest, 'usr/lib'))).toEqual(['cve-agent']);
    const help = spawnSync(join(dest, 'usr/bin/cve-agent'), ['--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(readFileSync(calls, 'utf8')).toBe('');
  });

  it('installs the control plane beside the agent with its own app, wrapper, unit, config and state', () => {
    const run = install(dest, tree, ['control-plane']);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(dest, 'usr/lib')).sort()).toEqual(['cve-agent', 'cve-control-plane']);
    const app = join(dest, 'usr/lib/cve-control-plane');
    expect(readFileSync(join(app, 'dist/cli/cve-control-plane.js'), 'utf8')).toBe(readFileSync(join(tree, 'dist/cli/cve-control-plane.js'), 'utf8'));
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    const unit = join(dest, 'lib/systemd/system/cve-control-plane.service');
    expect(readFileSync(unit, 'utf8')).toBe(readFileSync(join(tree, 'systemd/cve-control-plane.service'), 'utf8'));
    const config = join(dest, 'etc/cve-control-plane/config.yaml');
    expect(readFileSync(config, 'utf8')).toBe(readFileSync(join(tree, 'control-plane.example.yaml'), 'utf8'));
    expect(mode(config)).toBe('0640');
    expect(mode(join(dest, 'etc/cve-control-plane'))).toBe('0750');
    expect(mode(join(dest, 'var/lib/cve-control-plane'))).toBe('0750');
    expect(run.stdout).toContain('systemctl enable --now cve-control-plane');
    const help = spawnSync(join(dest, 'usr/bin/cve-control-plane'), ['--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cve-control-plane /);
    expect(readFileSync(calls, 'utf8')).toBe('');
  });

  it('refuses an unknown component', () => {
    const run = install(join(work, 'unknown-dest'), tree, ['hub']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("install.sh: error: usage: install.sh [agent|control-plane] (got 'hub')\n");
  });

  it('refuses a checkout without dist/ and installs nothing', () => {
    const bare = join(work, 'bare');
    mkdirSync(join(bare, 'scripts'), { recursive: true });
    cpSync(join(repo, 'scripts/install.sh'), join(bare, 'scripts/install.sh'));
    const bareDest = join(work, 'bare-dest');

    const run = install(bareDest, bare);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/dist\/cli\/cve-agent\.js is missing: run 'npm ci && npm run build' first/);
    expect(existsSync(bareDest)).toBe(false);
  });
});

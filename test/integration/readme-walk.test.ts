/**
 * The README's "From two fresh Debian hosts to a first scan", followed as written: every fenced
 * block marked `<!-- walk: <host>[, output: name][, paste: name] -->` runs in bash, in order, on
 * its host, with nothing added between them. What differs from two real hosts, and only that:
 * - each host is a directory: `/etc/` and `/var/lib/` in the commands point into it, so does the
 *   state directory its CLI opens by default (/var/lib/<package>, given as STATE_DIRECTORY), and its
 *   packages are "installed" as the Debian packages section leaves them (the config
 *   directories, the agent's example config as its conffile, 0640);
 * - the walk's two values (the `vars` block) are this file's loopback ones;
 * - the host's programs are stood in for: `cve-control-plane` and `cve-agent` are the built
 *   commands (dist/cli), `runuser -u <user> --` runs the command as the test's own user, and
 *   `systemctl enable --now <unit>` runs the unit's ExecStart from systemd/ with the unit's
 *   StateDirectory, returning once the daemon logs that it is ready (Type=notify);
 * - the lines `sites add` printed are pasted where the README shows them (`paste:`).
 * Shell variables carry from one block to the next of the same host, as in one terminal.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startFakeService } from '../helpers/fake-services.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = path.join(ROOT, 'dist', 'cli');
// This test's loopback block: the control plane on 127.0.115.1, the site's network 127.0.116.0/29.
const VALUES: Record<string, string> = { CP_ADDR: '127.0.115.1', SUBNET: '127.0.116.0/29' };
const NGINX = { host: '127.0.116.3', port: 8080 };

export interface WalkBlock {
  host: string;
  output?: string;
  paste?: string;
  code: string;
}

/** The README's walk blocks, in order. */
export function walkBlocks(readme: string): WalkBlock[] {
  return [...readme.matchAll(/<!-- walk: ([^>]*?) -->\n```sh\n([\s\S]*?)\n```/g)].map(([, marker = '', code = '']) => {
    const [host = '', ...options] = marker.split(',').map((part) => part.trim());
    const block: WalkBlock = { host, code };
    for (const option of options) {
      const [key, value] = option.split(':').map((part) => part.trim());
      if (key === 'output' || key === 'paste') block[key] = value;
      else throw new Error(`unknown walk option ${option}`);
    }
    return block;
  });
}

/** The stand-ins for the host's programs (see the header), sourced before each block. */
const prelude = String.raw`
set -euo pipefail
cve-control-plane() { "$NODE" "$DIST/cve-control-plane.js" "$@"; }
cve-agent() { "$NODE" "$DIST/cve-agent.js" "$@"; }
runuser() { while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done; shift; "$@"; }
systemctl() {
  if [ "$#" -ne 3 ] || [ "$1" != enable ] || [ "$2" != --now ]; then echo "walk: systemctl $* is not stood in for" >&2; return 2; fi
  local unit="$3" command state i
  command=$(sed -n 's/^ExecStart=//p' "$UNITS/$unit.service")
  state=$(sed -n 's/^StateDirectory=//p' "$UNITS/$unit.service")
  command=${'${'}command//\/etc\//$HOST_ROOT/etc/}
  command=${'${'}command/#\/usr\/bin\/$unit/$NODE $DIST/$unit.js}
  mkdir -p "$HOST_ROOT/var/lib/$state"
  (cd "$HOST_ROOT/var/lib/$state" && STATE_DIRECTORY="$HOST_ROOT/var/lib/$state" exec $command) </dev/null >"$HOST_ROOT/$unit.log" 2>&1 &
  echo $! >"$HOST_ROOT/$unit.pid"
  for i in $(seq 1 1200); do
    if grep -qE '"msg":"(control plane|agent) ready"' "$HOST_ROOT/$unit.log"; then return 0; fi
    if ! kill -0 "$(cat "$HOST_ROOT/$unit.pid")" 2>/dev/null; then cat "$HOST_ROOT/$unit.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "walk: $unit not ready after 120 s" >&2
  return 1
}
`;

interface Host {
  root: string;
  /** The package's state directory under `root`: what its CLI opens by default, as /var/lib/<package> on a real host. */
  state: string;
  /** Shell variables carried between its blocks. */
  vars: string;
}

function runBlock(host: Host, code: string, names: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `${prelude}\n[ -f ${host.vars} ] && source ${host.vars}\n${code}\ndeclare -p ${names.join(' ')} >${host.vars} 2>/dev/null || true\n`;
  const { CVE_CONTROL_PLANE_CONFIG: _cp, CVE_AGENT_CONFIG: _agent, STATE_DIRECTORY: _state, NOTIFY_SOCKET: _notify, ...env } = process.env;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], {
      cwd: path.join(host.root, 'root'),
      env: { ...env, STATE_DIRECTORY: host.state, HOST_ROOT: host.root, NODE: process.execPath, DIST, UNITS: path.join(ROOT, 'systemd') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A block that hangs (a wait loop whose condition never comes) fails the test instead of holding it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, stdout, stderr });
    });
  });
}

/** A host with its package installed: the directories the Debian packages create, the agent's conffile. */
function installHost(root: string, name: string): Host {
  for (const dir of ['root', `etc/${name}`, `var/lib/${name}`]) mkdirSync(path.join(root, dir), { recursive: true, mode: 0o750 });
  if (name === 'cve-agent') {
    copyFileSync(path.join(ROOT, 'config.example.yaml'), path.join(root, 'etc/cve-agent/config.yaml'));
    chmodSync(path.join(root, 'etc/cve-agent/config.yaml'), 0o640);
  }
  return { root, state: path.join(root, 'var/lib', name), vars: path.join(root, '.walk-vars') };
}

/** The daemons the walk started (their pid files), read at once: the temp directory is gone by the time the test has finished. */
function daemonsOf(roots: string[]): number[] {
  return roots.flatMap((root) =>
    ['cve-agent', 'cve-control-plane']
      .map((unit) => path.join(root, `${unit}.pid`))
      .filter(existsSync)
      .map((file) => Number(readFileSync(file, 'utf8'))),
  );
}

/** The tail of each daemon's log, for a failure's message. */
function daemonLogs(roots: string[]): string {
  return roots
    .flatMap((root) => ['cve-agent', 'cve-control-plane'].map((unit) => path.join(root, `${unit}.log`)))
    .filter(existsSync)
    .map((file) => `${file}:\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

/** SIGTERM to each daemon the walk started, as `systemctl stop` would; SIGKILL if one lingers. */
async function stopDaemons(pids: number[]): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids.filter(alive)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 150 && alive(pid); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

describe("the README's two-host walk", () => {
  it('init, start, sites add; the agent from the printed lines; a token, a schedule run now, its scan in the API', { timeout: 600_000 }, async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = walkBlocks(readme);
    expect(blocks.map((b) => b.host)).toEqual(['vars', 'control-plane', 'control-plane', 'agent', 'control-plane']);
    const names = [...new Set(blocks.flatMap((b) => [...b.code.matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? '')))];

    // The site's network: one web server of a version with known CVEs.
    await startFakeService({ ...NGINX, httpServer: 'nginx/1.13.2' });
    const dir = tempDir('readme-walk-');
    const hosts: Record<string, Host> = {
      'control-plane': installHost(path.join(dir, 'control-plane-host'), 'cve-control-plane'),
      agent: installHost(path.join(dir, 'agent-host'), 'cve-agent'),
    };
    const roots = Object.values(hosts).map((h) => h.root);
    const daemons = new Set<number>();
    onTestFinished(() => stopDaemons([...daemons]));

    const outputs = new Map<string, string>();
    let last = '';
    for (const block of blocks) {
      if (block.host === 'vars') {
        // The walk's values, each replaced by this test's; the README must set exactly these.
        const assigned = [...block.code.matchAll(/^([A-Z_]+)=\S+(\s+#.*)?$/gm)].map((m) => m[1]);
        expect(assigned).toEqual(Object.keys(VALUES));
        const ours = Object.entries(VALUES)
          .map(([name, value]) => `${name}=${value}`)
          .join('\n');
        for (const host of Object.values(hosts)) expect((await runBlock(host, ours, names)).code).toBe(0);
        continue;
      }
      const host = hosts[block.host];
      if (host === undefined) throw new Error(`the README names an unknown walk host ${block.host}`);
      let code = block.code.replace(/(?<=^|[\s="'])\/(etc|var\/lib)\//gm, `${host.root}/$1/`);
      if (block.paste !== undefined) {
        const printed = outputs.get(block.paste);
        if (printed === undefined) throw new Error(`nothing printed as ${block.paste} before it is pasted`);
        const shown = /^# cve-agent config for site[^\n]*\n(?:.*\n)*?\s*token: .*$/m.exec(code)?.[0];
        if (shown === undefined) throw new Error('the agent block does not show the lines of sites add');
        // The README shows the same lines as `sites add` prints: only the values differ.
        const shape = (text: string) =>
          text
            .trim()
            .split('\n')
            .map((line) => line.replace(/: .*$/, ':'));
        expect(shape(shown)).toEqual(shape(printed));
        code = code.replace(shown, printed.trimEnd());
      }
      const result = await runBlock(host, code, names);
      for (const pid of daemonsOf(roots)) daemons.add(pid);
      expect(result.code, `${block.host} block:\n${block.code}\nstderr: ${result.stderr}\n${daemonLogs(roots)}`).toBe(0);
      if (block.output !== undefined) outputs.set(block.output, result.stdout);
      last = result.stdout;
    }

    // The agent connected with the pasted lines, and the scan it ran is in the API's report.
    const agentLog = readFileSync(path.join(dir, 'agent-host', 'cve-agent.log'), 'utf8');
    expect(agentLog).toContain('"msg":"uplink connected"');
    const report = JSON.parse(last) as { scan: { status: string; hosts_scanned: number }; cves: { cve_id: string; host: string; port: number }[] };
    expect(report.scan.status).toBe('completed');
    expect(report.scan.hosts_scanned).toBeGreaterThan(0);
    expect(report.cves).toContainEqual(expect.objectContaining({ cve_id: 'CVE-2017-7529', host: NGINX.host, port: NGINX.port }));
  });
});

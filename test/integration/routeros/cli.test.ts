import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventorySchema } from '../../../src/agent/routeros/inventory-schema.js';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { agentCli } from '../../helpers/cli.js';

const cli = agentCli;

/** The real CLI in its own process; asynchronous so the simulator in this process can answer it. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function configFile(router: Record<string, unknown>): { file: string; dataDir: string } {
  const dir = tempDir('router-cli-');
  const lines = Object.entries(router).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `router:\n${lines.join('\n')}\nsubnets: [192.168.56.0/24]\n`, { mode: 0o600 });
  return { file, dataDir: path.join(dir, 'state') };
}

let sim: RunningApiSimulator;
beforeAll(async () => {
  sim = await startApiSimulator({ data: routerFromCaptures() });
});
afterAll(async () => {
  await sim.stop();
});

describe('cve-agent router', () => {
  it('check prints the version, channel, identity, board and table sizes', async () => {
    const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password_env: 'ROUTER_PASSWORD' });
    const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'check'], { ROUTER_PASSWORD: 'secret' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`router 127.0.0.1:${sim.port} (api): ok`);
    expect(result.stdout).toMatch(/identity +MikroTik\n/);
    expect(result.stdout).toMatch(/version +7\.4 \(stable\)\n/);
    expect(result.stdout).toMatch(/board +CCR2004-16G-2S\+\n/);
    expect(result.stdout).toMatch(/arp +3\n/);
    expect(result.stdout).toMatch(/leases +1\n/);
    expect(result.stdout).toMatch(/bridge hosts +3\n/);
    expect(result.stdout).toMatch(/neighbors +1\n/);
  });

  it('check says "login failed" and exits 77 on a wrong password', async () => {
    const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password: 'nope' });
    const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'check']);
    expect(result.code).toBe(77);
    expect(result.stderr).toBe(`cve-agent: router 127.0.0.1:${sim.port} (api): login failed (invalid user name or password (6))\n`);
  });

  it('inventory says "login failed" on one line too, with no log object or stack', async () => {
    const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password: 'nope' });
    const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'inventory']);
    expect(result.code).toBe(77);
    expect(result.stderr).not.toMatch(/[{}]|\n\s+at /);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`cve-agent: router 127.0.0.1:${sim.port} (api): login failed (invalid user name or password (6))`);
  });

  it('check says "connection refused on <port>" and exits 69 when the port is closed', async () => {
    const closed = await startApiSimulator({ data: routerFromCaptures() });
    const port = closed.port;
    await closed.stop();
    const { file, dataDir } = configFile({ host: '127.0.0.1', port, user: 'admin', password: 'secret', ssh_fallback: false });
    const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'check']);
    expect(result.code).toBe(69);
    expect(result.stderr).toBe(`cve-agent: router 127.0.0.1:${port} (api): connection refused on ${port}\n`);
  });

  it('check says "timeout after 1 s" and exits 75 when the router never answers', async () => {
    sim.setFaults({ silentLogin: true });
    try {
      const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password: 'secret', timeout_seconds: 1 });
      const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'check']);
      expect(result.code).toBe(75);
      expect(result.stderr).toBe(`cve-agent: router 127.0.0.1:${sim.port} (api): timeout after 1 s (login)\n`);
    } finally {
      sim.setFaults({});
    }
  });

  it('inventory --json prints the merged inventory and remembers each MAC in agent.db', async () => {
    const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password: 'secret' });
    const result = await runCli(['--config', file, '--data-dir', dataDir, '--json', 'router', 'inventory']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const inventory = inventorySchema.parse(JSON.parse(result.stdout));
    expect(inventory.router).toMatchObject({ version: '7.4', channel: 'stable' });
    expect(inventory.router).not.toHaveProperty('cpe');
    expect(inventory.addresses).toEqual([{ address: '192.168.56.10/24', network: '192.168.56.0/24', interface: 'ether1' }]);
    const db = new Database(path.join(dataDir, 'agent.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT mac, first_seen, last_seen FROM router_hosts ORDER BY mac').all() as {
        mac: string;
        first_seen: string;
        last_seen: string;
      }[];
      expect(rows.map((row) => row.mac)).toEqual(inventory.hosts.map((host) => host.mac).sort());
      // A second read keeps the first sighting.
      const again = await runCli(['--config', file, '--data-dir', dataDir, '--json', 'router', 'inventory']);
      const second = inventorySchema.parse(JSON.parse(again.stdout));
      const arpHost = second.hosts.find((host) => host.mac === '08:00:27:CE:A3:7E');
      expect(arpHost?.first_seen).toBe(rows.find((row) => row.mac === '08:00:27:CE:A3:7E')?.first_seen);
      expect((arpHost?.last_seen ?? '') > (arpHost?.first_seen ?? '')).toBe(true);
    } finally {
      db.close();
    }
  });

  it('inventory prints a table of hosts for people', async () => {
    const { file, dataDir } = configFile({ host: '127.0.0.1', port: sim.port, user: 'admin', password: 'secret' });
    const result = await runCli(['--config', file, '--data-dir', dataDir, 'router', 'inventory']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^router MikroTik: RouterOS 7\.4 \(stable\) on CCR2004-16G-2S\+, cpe:2\.3:o:mikrotik:routeros:7\.4:-:\*:\*:-:\*:\*:\*$/m);
    expect(result.stdout).toMatch(/192\.168\.56\.1 +0A:00:27:00:00:00 \(random\) +-/);
    expect(result.stdout).toMatch(/sw +172\.31\.1\.12 +4C:5E:0C:12:AA:CC +6\.40\.8 \(bugfix\) +\S+ +cpe:2\.3:o:mikrotik:routeros:6\.40\.8:-:\*:\*:ltr:/);
  });

  it('says there is no router when the config has none', async () => {
    const dir = tempDir('router-cli-');
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, 'subnets: [192.168.56.0/24]\n');
    const result = await runCli(['--config', file, '--data-dir', path.join(dir, 'state'), 'router', 'check']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('has no router: block');
  });
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleUser, routerOsAlgorithms } from '../../../src/agent/routeros/ssh/ssh-client.js';
import { oneTrySource, routerSettings } from './helpers.js';

// Debian's OpenSSH sshd on a loopback port: the appended RouterOS 6.x algorithms must not make
// a modern server negotiate down, and a refused login from a real sshd must read "login failed".
// (The RouterOS console itself is only ever the simulator's.)
const sshd = '/usr/sbin/sshd';
let daemon: ChildProcess | undefined;
let dir = '';
let port = 0;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port: free } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

beforeAll(async () => {
  if (!existsSync(sshd)) throw new Error(`${sshd} is missing: install openssh-server (see .ci/apt-packages)`);
  // Not tempDir(): that one is emptied after each test, and sshd re-reads its key on every connection.
  dir = mkdtempSync(path.join(tmpdir(), 'router-sshd-'));
  const key = path.join(dir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  port = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${key}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      '',
    ].join('\n'),
  );
  daemon = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 10_000);
    daemon?.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    daemon?.on('exit', (code) => reject(new Error(`sshd exited ${code}: ${log}`)));
  });
});

afterAll(() => {
  daemon?.kill('SIGTERM');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the SSH client against OpenSSH', () => {
  it('negotiates modern algorithms with a modern server despite the appended legacy ones', async () => {
    const negotiated = await new Promise<ssh2.NegotiatedAlgorithms>((resolve, reject) => {
      const client = new ssh2.Client();
      client.on('handshake', (info) => {
        resolve(info);
        client.end();
      });
      client.on('error', () => undefined);
      client.on('close', () => reject(new Error('closed before the handshake')));
      client.connect({ host: '127.0.0.1', port, username: consoleUser('nobody-here'), password: 'x', algorithms: routerOsAlgorithms, readyTimeout: 10_000 });
    });
    expect(negotiated.kex).not.toBe('diffie-hellman-group14-sha1');
    expect(negotiated.kex).toMatch(/curve25519|ecdh|sntrup/);
    expect(negotiated.serverHostKey).toBe('ssh-ed25519');
  });

  it('reads a refused password as "login failed"', async () => {
    await expect(
      oneTrySource(routerSettings({ port, transport: 'ssh', user: 'edge-cve-nobody', password: 'wrong' })).check(AbortSignal.timeout(20_000)),
    ).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_AUTH',
      message: `router 127.0.0.1:${port} (ssh): login failed (password refused)`,
    });
  });
});

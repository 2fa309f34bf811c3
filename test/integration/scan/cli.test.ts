import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tcpServer } from './servers.js';
import { agentCli } from '../../helpers/cli.js';

const cli = agentCli;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// This file's peers live on 127.0.13.80-83.
describe('cve-agent scan', () => {
  it('prints hosts and services as JSON, with no progress bar off a terminal', async () => {
    await tcpServer('127.0.13.81', 47301, (socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.69\r\n\r\n')));
    const { code, stdout, stderr } = await run(['scan', '--subnet', '127.0.13.80/30', '--ports', '47301', '--no-udp', '--json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout) as {
      targets: number;
      hosts: { address: string; services: { port: number; product?: string; version?: string; cpe?: string }[] }[];
    };
    expect(result.targets).toBe(2);
    const host = result.hosts.find((entry) => entry.address === '127.0.13.81');
    expect(host?.services).toEqual([expect.objectContaining({ port: 47301, product: 'lighttpd', version: '1.4.69' })]);
    // The scanner reports what it saw; cve/ names it (the table prints that name).
    expect(host?.services[0]).not.toHaveProperty('cpe');
  });

  it('prints a table by default', async () => {
    await tcpServer('127.0.13.82', 47301, (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    const { code, stdout } = await run(['scan', '--subnet', '127.0.13.82', '--ports', '47301', '--no-udp']);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^HOST\s+PORT\s+SERVICE\s+PRODUCT\s+VERSION\s+CPE/);
    expect(stdout).toMatch(/127\.0\.13\.82\s+47301\/tcp\s+ssh\s+OpenSSH\s+9\.2p1\s+cpe:2\.3:a:openbsd:openssh:9\.2:p1/);
    expect(stdout).toContain('1 of 1 addresses alive, 1 services');
  });

  it('refuses a subnet larger than /22 and a bad port list with their error codes', async () => {
    const wide = await run(['scan', '--subnet', '10.0.0.0/16']);
    expect(wide.code).toBe(65);
    expect(wide.stderr).toContain('"10.0.0.0/16": expected a prefix between /22 and /32');
    const ports = await run(['scan', '--subnet', '127.0.13.83', '--ports', '80-20']);
    expect(ports.code).toBe(65);
    expect(ports.stderr).toContain('the range is reversed');
  });
});

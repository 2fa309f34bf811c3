import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScanEngine } from '../../../src/agent/scan/engine.js';
import type { ServiceFinding } from '../../../src/agent/scan/service.js';
import { agentCli } from '../../helpers/cli.js';
import { startLab, type Lab } from '../../lab/lab.js';

// Real Debian daemons on this engineer's block 127.0.65.0/24; the built CLI reads what the scanner captured from them.
let lab: Lab;
let seen: ServiceFinding[];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-lookup-'));
  lab = await startLab({ prefix: '127.0.65' });
  const result = await createScanEngine().scan({ subnets: [lab.subnet] }, { signal: AbortSignal.timeout(60_000) });
  seen = result.hosts.flatMap((host) => host.services).filter((finding) => finding.version !== undefined);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [agentCli, '--data-dir', dir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

type Answer = { query: string; kind?: string; product?: string; version?: string; update?: string; cpe?: string; findings?: unknown[]; error?: string };
const answers = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Answer);

describe('cve-agent lookup with what a scanner sees', () => {
  it('reads every versioned banner the lab gives the scanner as the probe did, over stdin, past a bad line', async () => {
    expect(lab.missing).toEqual([]);
    // ssh, nginx http+https, lighttpd, vsftpd, dnsmasq tcp+udp, redis, snmpd: each banner with the version dpkg reports.
    expect(seen.length).toBeGreaterThanOrEqual(9);
    const queries = seen.map((finding) => finding.evidence);
    const input = [...queries.slice(0, 3), 'no version here', ...queries.slice(3)].join('\n');
    const result = await run(['lookup', '--batch', '-'], `${input}\n`);
    expect(result.code).toBe(65);
    const out = answers(result.stdout);
    expect(out.map((answer) => answer.query)).toEqual([...queries.slice(0, 3), 'no version here', ...queries.slice(3)]);
    expect(out[3]).toEqual({ query: 'no version here', error: expect.stringContaining('is neither a CPE 2.3 name, a banner') as unknown });
    const read = out.filter((answer) => answer.error === undefined);
    seen.forEach((finding, index) => {
      const answer = read[index];
      expect(answer, finding.evidence).toMatchObject({
        kind: 'banner',
        product: finding.product,
        version: finding.version,
        findings: expect.any(Array) as unknown,
      });
      expect(answer?.update, finding.evidence).toBe(finding.update);
      expect(answer?.cpe, finding.evidence).toMatch(/^cpe:2\.3:a:[^:]+:[^:]+:\d/);
    });
    for (const service of lab.services) {
      for (const finding of seen.filter((entry) => entry.product === service.expect.product))
        expect(`${finding.version}${finding.update ?? ''}`, service.name).toBe(service.upstreamVersion);
    }
  });

  it('answers a batch file line by line in input order, skipping blanks and comments, and says a failure in the exit status', async () => {
    const file = path.join(dir, 'queries.txt');
    writeFileSync(
      file,
      [
        '# what the site scanner saw',
        'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
        '',
        '5.5.5-10.11.6-MariaDB-0+deb12u1',
        'frobnicator 1.0',
        '220 mail.example ESMTP Postfix (Debian/GNU)',
        'cpe:2.3:a:thekelleys:dnsmasq:2.85:*:*:*:*:*:*:*',
        'dnsmasq 2.85',
      ].join('\r\n'),
    );
    const result = await run(['lookup', '--batch', file]);
    expect(result.code).toBe(65);
    expect(result.stderr).toBe('');
    const out = answers(result.stdout);
    expect(out.map((answer) => answer.query)).toEqual([
      'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
      '5.5.5-10.11.6-MariaDB-0+deb12u1',
      'frobnicator 1.0',
      '220 mail.example ESMTP Postfix (Debian/GNU)',
      'cpe:2.3:a:thekelleys:dnsmasq:2.85:*:*:*:*:*:*:*',
      'dnsmasq 2.85',
    ]);
    expect(out[0]).toMatchObject({ kind: 'banner', product: 'OpenSSH', version: '9.2', update: 'p1', cpe: 'cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*' });
    expect(out[1]).toMatchObject({ kind: 'banner', product: 'MariaDB', version: '10.11.6', cpe: 'cpe:2.3:a:mariadb:mariadb:10.11.6:*:*:*:*:*:*:*' });
    expect(out[2]?.error).toContain('no product named "frobnicator"');
    expect(out[3]?.error).toContain('names Postfix but not its version');
    expect(out[4]).toMatchObject({ kind: 'cpe', product: 'dnsmasq', version: '2.85' });
    expect(out[5]).toMatchObject({ kind: 'service', product: 'dnsmasq', version: '2.85' });
    // Findings pass through whole (CVE id, score, confidence... and any field a Finding gains).
    const ids = (answer: Answer | undefined) => (answer?.findings as { cve_id: string }[]).map((finding) => finding.cve_id);
    expect(ids(out[4])).toContain('CVE-2023-28450');
    expect(ids(out[5])).toEqual(ids(out[4]));
    expect(out[4]?.findings?.[0]).toHaveProperty('confidence');
  });

  it('exits 0 when every line is answered, and names an unreadable batch file on one line', async () => {
    const good = await run(['lookup', '--batch', '-'], 'redis_version:7.0.15\nServer: nginx/1.22.1\n');
    expect(good.code).toBe(0);
    expect(answers(good.stdout).map((answer) => answer.product)).toEqual(['Redis', 'nginx']);
    const missing = await run(['lookup', '--batch', path.join(dir, 'nowhere.txt')]);
    expect(missing.code).toBe(65);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('cannot read the batch file');
  });

  it('streams: answers a line before the rest of the input exists, so a long input is never held in memory', async () => {
    const child = spawn(process.execPath, [agentCli, '--data-dir', dir, 'lookup', '--batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    const firstAnswer = new Promise<string>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve(stdout);
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.write('redis_version:7.0.15\n');
    // stdin is still open: the answer can only be here if the batch reads and answers line by line.
    expect(JSON.parse((await firstAnswer).split('\n')[0] ?? '')).toMatchObject({ product: 'Redis', version: '7.0.15' });
    child.stdin.end('dnsmasq-2.90\n');
    expect(await exited).toBe(0);
    expect(answers(stdout).map((answer) => answer.product)).toEqual(['Redis', 'dnsmasq']);
  });

  it('documents how a query is read in --help', async () => {
    const help = await run(['lookup', '--help']);
    expect(help.stdout).toContain('the first rule that fits decides');
    expect(help.stdout).toContain('SSH identification, HTTP Server header, FTP/SMTP greeting');
    expect(help.stdout).toContain('65 when any line was an error');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allRealRecords, recordsDir } from '../../unit/cve/fixtures.js';
import { startNvdServer, type NvdServer } from './nvd-server.js';
import { agentCli } from '../../helpers/cli.js';

const cli = agentCli;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const run = (args: string[]) => start(args).done;

describe('cve-agent feed and lookup', () => {
  it('imports a directory, reports status, and looks up a banner as a table and as JSON', async () => {
    const dir = dataDir();
    const imported = await run(['--data-dir', dir, 'feed', 'import', recordsDir]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe('imported 78 records: 78 new, 0 updated, 0 unchanged, 0 older ignored, 0 rejected removed, 0 malformed skipped\n');

    const status = await run(['--data-dir', dir, '--json', 'feed', 'status']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      cves: 78,
      unanalysed: 5,
      rejected: 0,
      data_as_of: null,
      update_in_progress: null,
      last_import: { source: recordsDir, inserted: 78 },
      feed: { version: 0, data_as_of: {} },
    });

    const table = await run(['--data-dir', dir, 'lookup', 'OpenSSH_9.2p1 Debian-2+deb12u3']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe('cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*');
    expect(lines[1]).toMatch(/^CVE\s+SCORE\s+SEVERITY\s+AFFECTED\s+FIXED IN\s+CONFIDENCE\s+NOTES$/);
    // The starter Debian tracker rows decide the backport question: DSA-5724-1 fixed it in deb12u3.
    expect(table.stdout).toMatch(/CVE-2024-6387\s+8\.1 v3\.1\s+HIGH\s+>= 8\.6, < 9\.8\s+9\.8\s+high 1\.00\s+fixed: patched by Debian in 1:9\.2p1-2\+deb12u3/);

    const json = await run([
      '--data-dir',
      dir,
      '--json',
      'lookup',
      'cpe:2.3:o:mikrotik:routeros:6.44.3:*:*:*:-:*:*:*',
      '--platform',
      'cpe:2.3:h:mikrotik:hex:-:*:*:*:*:*:*:*',
      '--min-cvss',
      '7.5',
    ]);
    const output = JSON.parse(json.stdout) as { findings: { cve_id: string; score: number; confidence: number }[] };
    // Highest score first; CVE-2023-30799 (7.2) is below --min-cvss; CVE-2019-3943 stops at 6.43.12 for stable.
    expect(output.findings.map((finding) => finding.cve_id)).toEqual(['CVE-2019-3976', 'CVE-2019-3977', 'CVE-2020-10364']);
    expect(output.findings.find((finding) => finding.cve_id === 'CVE-2020-10364')?.confidence).toBe(1);
  });

  it('finds real CVEs on a new site from the starter feed alone', async () => {
    const dir = dataDir();
    const looked = await run(['--data-dir', dir, '--json', 'lookup', 'dnsmasq 2.85']);
    expect(looked.code).toBe(0);
    expect((JSON.parse(looked.stdout) as { findings: { cve_id: string }[] }).findings.map((finding) => finding.cve_id)).toContain('CVE-2023-28450');
  });

  it('exits with the documented codes on bad input', async () => {
    const dir = dataDir();
    const missing = await run(['--data-dir', dir, 'feed', 'import', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain('cannot read');
    const bogus = path.join(dir, 'bogus.json');
    writeFileSync(bogus, 'this is not JSON');
    const invalid = await run(['--data-dir', dir, 'feed', 'import', bogus]);
    expect(invalid.code).toBe(65);
    expect(invalid.stderr).toContain('bogus.json: not JSON');
    const noVersion = await run(['--data-dir', dir, 'lookup', 'openssh']);
    expect(noVersion.code).toBe(65);
    const unknown = await run(['--data-dir', dir, 'lookup', 'frobnicator 1.0']);
    expect(unknown.code).toBe(65);
    expect(unknown.stderr).toContain('no product named "frobnicator"');
  });

  it('says a skipped record on one human line, never a log object or a stack', async () => {
    const dir = dataDir();
    const page = path.join(dir, 'page.json');
    const [good] = allRealRecords();
    writeFileSync(page, JSON.stringify({ format: 'NVD_CVE', version: '2.0', vulnerabilities: [{ cve: good }, { cve: { id: 'CVE-2099-0001' } }] }));
    const result = await run(['--data-dir', dir, 'feed', 'import', page]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^cve-agent: warning: skipped malformed CVE record.* cve=CVE-2099-0001/m);
    expect(result.stderr).not.toMatch(/[{}]|\n\s+at /);
  });

  it('resumes an update killed mid-way at the first page it had not stored', async () => {
    const dir = dataDir();
    const nvd: NvdServer = await startNvdServer({ records: allRealRecords(), apiKey: 'k-1' });
    cleanups.push(() => nvd.close());
    const keyFile = path.join(dir, 'nvd.key');
    writeFileSync(keyFile, 'k-1\n', { mode: 0o600 });
    const args = ['--data-dir', dir, '--json', 'feed', 'update', '--base-url', nvd.url, '--api-key-file', keyFile, '--results-per-page', '10'];

    // The fourth page never answers; when it is asked for, the process is killed.
    const asked = new Promise<void>((resolve) => {
      nvd.onRequest = (request) => {
        if (request.startIndex === 30) resolve();
      };
    });
    nvd.faults.push(undefined, undefined, undefined, 'hang');
    const first = start(args);
    await asked;
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const interrupted = JSON.parse((await run(['--data-dir', dir, '--json', 'feed', 'status'])).stdout) as {
      cves: number;
      update_in_progress: { startIndex: number };
    };
    expect(interrupted.cves).toBe(30);
    expect(interrupted.update_in_progress).toMatchObject({ mode: 'full', startIndex: 30 });

    nvd.onRequest = undefined;
    const before = nvd.requests.length;
    const second = await run(args);
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as { resumedFrom: { startIndex: number }; counts: { inserted: number } };
    expect(result.resumedFrom).toMatchObject({ startIndex: 30 });
    expect(result.counts.inserted).toBe(48);
    const resumedAt = nvd.requests.slice(before).map((request) => request.startIndex);
    expect(resumedAt.slice(0, 5)).toEqual([30, 40, 50, 60, 70]);
    expect(nvd.requests.every((request) => request.apiKey === 'k-1')).toBe(true);
    const status = JSON.parse((await run(['--data-dir', dir, '--json', 'feed', 'status'])).stdout) as {
      cves: number;
      update_in_progress: unknown;
      data_as_of: string | null;
    };
    expect(status).toMatchObject({ cves: 78, update_in_progress: null });
    expect(status.data_as_of).not.toBeNull();
  });
});

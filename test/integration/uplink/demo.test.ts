import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm run demo', () => {
  it('runs the whole system on loopback, prints a completed report with MACs and CVEs, and leaves nothing running', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('uplink connected');
    // The control plane's feed hub took NVD, KEV and EPSS from the simulators: a feed version for the agents and the console.
    expect(output).toMatch(/feed hub imported nvd, kev, epss from simulators on 127\.0\.40\.1 \(feed version [1-9]\d*\)/);
    expect(output).toMatch(/-> completed 100%/);
    expect(output).toMatch(/127\.0\.40\.2 +00:0C:29:11:22:33 +build-box/);
    expect(output).toMatch(/CVE-2023-38408 +9\.8 CRITICAL 127\.0\.40\.2 +00:0C:29:11:22:33/);
    expect(output).toMatch(/Warnings \(score >= 7\): [1-9]/);
    // Each host's verdicts and the fix-first order with why: the router's KEV CVEs open through
    // winbox first; the Debian build's patched CVEs listed, not counted.
    expect(output).toMatch(/127\.0\.40\.2 +3 +2 +0 +3 +#\d+ CVE-2023-38408/);
    expect(output).toMatch(/127\.0\.40\.2 +CVE-2024-6387 +patched by Debian in 1:9\.2p1-2\+deb12u3 \(DSA-5724-1\)/);
    expect(output).toMatch(/ 1 CVE-2018-14847 +9\.1 127\.0\.40\.1 +KEV since 2021-12-01; router service winbox \(tcp\/8291\) open to WAN/);
    expect(output).toContain('webhook: scan.completed');
    // The process ended on its own: nothing it started kept the event loop alive.
    expect(output).toContain('everything stopped; exit 0');
  });

  it('with --keep, keeps everything running after the scan, prints the console URL, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--keep'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const consoleUrl = new Promise<string>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const url = /console: (http:\/\/\S+)/.exec(output)?.[1];
        if (url) resolve(url);
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      void exited.then(() => reject(new Error(`the demo ended before printing the console URL:\n${output}`)));
    });
    const url = await consoleUrl;
    expect(output).toMatch(/-> completed 100%/);
    // Still up after the scan: the control plane answers, the console page is served at the printed URL.
    const openapi = await fetch(new URL('/openapi.json', url));
    expect(openapi.status).toBe(200);
    const page = await fetch(url);
    const html = await page.text();
    expect(page.status, html).toBe(200);
    expect(html).toContain('<title>edge-cve console</title>');
    // The printed demo operator signs in.
    const [, email, password] = /sign in as (\S+) with password (\S+)/.exec(output) ?? [];
    const session = await fetch(new URL('/console/session', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(session.status, await session.clone().text()).toBe(200);
    expect(((await session.json()) as { operator: { email: string } }).operator.email).toBe(email);
    expect(output).not.toContain('everything stopped');
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toContain('SIGTERM: stopping');
    expect(output).toContain('everything stopped; exit 0');
  });
});

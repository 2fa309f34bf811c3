import { execFileSync, spawn } from 'node:child_process';
import { cpSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPatched, requiredPatch, RouterOsApiClient, type RouterOsLibrary } from '../../../src/agent/routeros/api/api-client.js';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { silentLogger } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const patchFile = path.join(root, 'patches/node-routeros+1.6.9.patch');
const installed = path.join(root, 'node_modules/node-routeros');
const child = fileURLToPath(new URL('./fixtures/print-with-library.mjs', import.meta.url));

/** A copy of the installed package with our patch reversed: node-routeros 1.6.9 as published. */
function unpatchedCopy(): string {
  const dir = tempDir('node-routeros-unpatched-');
  const copy = path.join(dir, 'node_modules/node-routeros');
  cpSync(installed, copy, { recursive: true });
  execFileSync('git', ['apply', '-R', patchFile], { cwd: dir });
  // Its own dependencies are the project's (a symlink resolves to the real path, and theirs from there).
  for (const dependency of ['iconv-lite', 'debug']) symlinkSync(path.join(root, 'node_modules', dependency), path.join(dir, 'node_modules', dependency));
  return copy;
}

/** Asynchronous on purpose: the simulator answering the child lives in this process. */
function runChild(library: string, port: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, library, String(port), '/ip/dhcp-server/lease'], { timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let sim: RunningApiSimulator;
beforeAll(async () => {
  const data = routerFromCaptures();
  sim = await startApiSimulator({ data: { ...data, menus: { ...data.menus, '/ip/dhcp-server/lease': [] } }, faults: { emptyReplies: true } });
});
afterAll(async () => {
  await sim.stop();
});

describe('the node-routeros patch', () => {
  it('is applied to the installed package (the postinstall ran)', () => {
    const library = createRequire(import.meta.url)('node-routeros') as RouterOsLibrary;
    expect(library.Receiver.edgeCvePatch).toBe(requiredPatch);
    // Reversing the patch must apply cleanly: the installed files are exactly the patched ones.
    expect(() => execFileSync('git', ['apply', '-R', '--check', patchFile], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('is needed: unpatched, an !empty reply kills the process with UNKNOWNREPLY', async () => {
    const result = await runChild(unpatchedCopy(), sim.port);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Tried to process unknown reply: !empty');
    expect(result.stdout).toBe('');
  });

  it('works: patched, the same code path reads the empty table as []', async () => {
    const result = await runChild(installed, sim.port);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('is checked at run time: the client refuses an unpatched library with a typed error', async () => {
    const unpatched = createRequire(import.meta.url)(unpatchedCopy()) as RouterOsLibrary;
    expect(() => assertPatched(unpatched)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_ROUTER_CLIENT_UNPATCHED' }));
    const client = new RouterOsApiClient({
      target: { host: '127.0.0.1', port: sim.port, transport: 'api' },
      user: 'admin',
      password: 'secret',
      timeoutMs: 1000,
      logger: silentLogger,
      library: unpatched,
    });
    await expect(client.connect(AbortSignal.timeout(20_000))).rejects.toMatchObject({ code: 'AGENT_ERR_ROUTER_CLIENT_UNPATCHED' });
    expect(sim.connections()).toBe(0);
  });
});

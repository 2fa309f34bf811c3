import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator } from '../../simulators/routeros-api/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { eventually, oneTrySource, routerSettings } from './helpers.js';

const data = routerFromCaptures();

/** A self-signed certificate for 127.0.0.1, made by the openssl program. */
function selfSigned(): { key: string; cert: string; certFile: string } {
  const dir = tempDir('router-tls-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

describe('API-SSL', () => {
  it('reads a router without a certificate (anonymous DH) when verification is off', async () => {
    const sim = await startApiSimulator({ data, tls: 'anonymous' });
    try {
      const settings = routerSettings({ port: sim.port, transport: 'api-ssl', tls: { reject_unauthorized: false } });
      const check = await oneTrySource(settings).check(AbortSignal.timeout(20_000));
      expect(check).toMatchObject({ transport: 'api-ssl', version: '7.4' });
      // With verification on, a router that shows no certificate is refused.
      await expect(oneTrySource({ ...settings, tls: { reject_unauthorized: true } }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_TLS',
      });
      expect(await eventually(() => sim.connections() === 0)).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('checks a certificate against tls.ca_file, and refuses one that CA did not sign', async () => {
    const { key, cert, certFile } = selfSigned();
    const other = selfSigned();
    const sim = await startApiSimulator({ data, tls: { key, cert } });
    try {
      const settings = routerSettings({ port: sim.port, transport: 'api-ssl', tls: { ca_file: certFile, reject_unauthorized: true } });
      expect((await oneTrySource(settings).check(AbortSignal.timeout(20_000))).identity).toBe('MikroTik');
      // With a CA given, CA verification stays on: the pin comes on top of it, not instead.
      await expect(
        oneTrySource({ ...settings, tls: { ca_file: other.certFile, reject_unauthorized: true } }).check(AbortSignal.timeout(20_000)),
      ).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_TLS',
        message: expect.stringContaining('self-signed certificate'),
      });
      // Without one, the self-signed certificate is pinned on first use (identity.test.ts).
      expect((await oneTrySource({ ...settings, tls: { reject_unauthorized: true } }).check(AbortSignal.timeout(20_000))).identity).toBe('MikroTik');
      expect(await eventually(() => sim.connections() === 0)).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});

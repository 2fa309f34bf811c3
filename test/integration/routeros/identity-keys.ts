import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/temp.js';
import { ed25519KeyPair } from '../../simulators/routeros-ssh/host-keys.js';

/** An ed25519 host key made here, and its fingerprint as OpenSSH's own ssh-keygen prints it. */
export function sshHostKey(): { privateKey: string; fingerprint: string } {
  const pair = ed25519KeyPair();
  const file = path.join(tempDir('router-hostkey-'), 'key.pub');
  writeFileSync(file, `${pair.public}\n`);
  const printed = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
  const fingerprint = /SHA256:[A-Za-z0-9+/]{43}/.exec(printed)?.[0];
  if (fingerprint === undefined) throw new Error(`ssh-keygen printed ${printed}`);
  return { privateKey: pair.private, fingerprint };
}

/** A self-signed certificate for 127.0.0.1 made by openssl, and its fingerprint as openssl prints it. */
export function certificate(): { key: string; cert: string; fingerprint: string } {
  const dir = tempDir('router-cert-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=router',
    ],
    { stdio: 'pipe' },
  );
  const printed = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile], { encoding: 'utf8' });
  const fingerprint = /=((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(printed)?.[1];
  if (fingerprint === undefined) throw new Error(`openssl printed ${printed}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), fingerprint };
}

import { confidence, evidenceText, type Identification } from '../service.js';

/**
 * The MySQL/MariaDB initial handshake (protocol 10): 3-byte length, sequence 0, then the
 * protocol version byte and the NUL-terminated server version. MariaDB prefixes `5.5.5-` so old
 * clients accept it. An error packet (0xff) instead means "host not allowed": MySQL-family, no
 * version.
 */
export function parseMysqlHandshake(packet: Buffer): Identification | null {
  if (packet.length < 5) return null;
  const length = packet.readUIntLE(0, 3);
  if (packet[3] !== 0 || length < 1 || length > 0xffff) return null;
  const body = packet.subarray(4, 4 + length);
  if (body[0] === 0xff && body.length >= 3) {
    const message = body.subarray(3).toString('latin1');
    return { service: 'mysql', product: 'MySQL-compatible server', confidence: confidence.protocolOnly, evidence: evidenceText(message) };
  }
  if (body[0] !== 10) return null;
  const end = body.indexOf(0, 1);
  if (end < 2) return null;
  const serverVersion = body.subarray(1, end).toString('latin1');
  return parseMysqlServerVersion(serverVersion);
}

/**
 * The handshake's server-version string (`8.0.36-0ubuntu0.22.04.1`, `5.5.5-10.11.6-MariaDB-0+deb12u1`):
 * the one rule for it, used by the probe and by `cve-agent lookup`.
 */
export function parseMysqlServerVersion(serverVersion: string): Identification | null {
  if (!/^\d+\.\d+\.\d+/.test(serverVersion)) return null;
  const evidence = evidenceText(serverVersion);
  const mariadb = /^(?:5\.5\.5-)?(\d+\.\d+\.\d+)-MariaDB(?:-(\S+))?/.exec(serverVersion);
  if (mariadb?.[1]) {
    const distro = mariadb[2]?.replace(/-log$/, '');
    return {
      service: 'mysql',
      product: 'MariaDB',
      version: mariadb[1],
      ...(distro ? { distro } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  const mysql = /^(\d+\.\d+\.\d+)(?:-(\S+))?/.exec(serverVersion);
  if (!mysql?.[1]) return null;
  const distro = mysql[2] && mysql[2] !== 'log' ? mysql[2] : undefined;
  return {
    service: 'mysql',
    product: 'MySQL',
    vendor: 'Oracle',
    version: mysql[1],
    ...(distro ? { distro } : {}),
    confidence: confidence.exactBanner,
    evidence,
  };
}

import type { Identification } from '../service.js';
import { parseFtpOrSmtpGreeting } from './banner.js';
import { parseVersionText } from './dns.js';
import { parseFtpBanner } from './ftp.js';
import { identifyHttp } from './http.js';
import { parseImapGreeting } from './imap.js';
import { parseMysqlServerVersion } from './mysql.js';
import { parsePop3Greeting } from './pop3.js';
import { parseRedisInfo } from './redis.js';
import { identifySnmp } from './snmp.js';
import { parseSshIdentification } from './ssh.js';

/**
 * One line a scanner saw, typed or pasted by an operator (`cve-agent lookup`), read by the same
 * parsers the probes run on the wire. Each shape is tried in this order, and the first whose
 * pattern fits decides; a line no shape fits is not a banner (the caller reads it another way).
 */
const bannerShapes: readonly { name: string; pattern: RegExp; read: (line: string) => Identification | null }[] = [
  { name: 'SSH identification', pattern: /^SSH-\d+\.\d+-/, read: parseSshIdentification },
  { name: 'HTTP Server header', pattern: /^Server:\s*\S/i, read: (line) => identifyHttp(serverHeaderResponse(line)) },
  // FTP and SMTP both greet with 220; the greeting's own words split them, as the probe does without a port.
  { name: 'FTP/SMTP greeting', pattern: /^(220[ -]|500 OOPS: vsftpd)/, read: readFtpOrSmtp },
  { name: 'POP3 greeting', pattern: /^\+OK\b/, read: parsePop3Greeting },
  { name: 'IMAP greeting', pattern: /^\* (OK|PREAUTH)\b/, read: parseImapGreeting },
  { name: 'Redis INFO line', pattern: /^redis_version:/, read: (line) => parseRedisInfo(`$${line.length}\r\n${line}\r\n`) },
  { name: 'DNS version.bind answer', pattern: /^(dnsmasq-\d|unbound \d|PowerDNS (Recursor|Authoritative Server) \d)/, read: parseVersionText },
  {
    name: 'Net-SNMP versionTag',
    pattern: /^versionTag:\s*\d/,
    read: (line) => identifySnmp({ sysDescr: line, sysObjectID: '1.3.6.1.4.1.8072.3.2.10', netSnmpVersion: line.replace(/^versionTag:\s*/, '') }),
  },
  // A bare server version is what the MySQL/MariaDB handshake carries (`5.5.5-10.11.6-MariaDB-0+deb12u1`).
  { name: 'MySQL/MariaDB handshake version', pattern: /^\d+\.\d+\.\d+(-\S+)?$/, read: parseMysqlServerVersion },
];

/** The response a `Server:` header line stands for, so identifyHttp reads it exactly as from the wire. */
function serverHeaderResponse(line: string) {
  return { status: 200, statusLine: 'HTTP/1.1 200 OK', headers: new Map([['server', line.replace(/^Server:\s*/i, '').trim()]]), body: '' };
}

function readFtpOrSmtp(line: string): Identification | null {
  return line.startsWith('500 OOPS') ? parseFtpBanner(line) : parseFtpOrSmtpGreeting(line, undefined);
}

export interface BannerReading {
  /** Which shape the line has (`SSH identification`, `HTTP Server header`...). */
  shape: string;
  identification: Identification | null;
}

/** The shape and what its parser reads, or undefined when the line has no banner shape. */
export function readBannerLine(line: string): BannerReading | undefined {
  const text = line.trim();
  const shape = bannerShapes.find((candidate) => candidate.pattern.test(text));
  return shape === undefined ? undefined : { shape: shape.name, identification: shape.read(text) };
}

/** The banner shapes in the order they are tried, for help text. */
export const bannerShapeNames: readonly string[] = bannerShapes.map((shape) => shape.name);

import { evidenceText, type Identification, confidence } from '../service.js';
import type { BoundedSocket } from './io.js';
import { type ProbeContext, type TcpProbe } from './io.js';
import { parseFtpBanner } from './ftp.js';
import { parseImapGreeting } from './imap.js';
import { parseMysqlHandshake } from './mysql.js';
import { parsePop3Greeting } from './pop3.js';
import { parseSmtpGreeting } from './smtp.js';
import { parseSshIdentification } from './ssh.js';
import { negotiateTelnet, parseTelnetBanner, TELNET_IAC } from './telnet.js';
import { located } from '../service.js';

/** Ports whose service speaks first; for those the banner wait is the whole step. */
const greetingPorts = new Set([21, 22, 23, 25, 110, 143, 465, 587, 2121, 2222, 2323, 3306]);

/** A greeting is complete at its first line end, or for FTP/SMTP multi-line at `NNN ` (RFC 959/5321). */
function greetingComplete(received: Buffer): boolean {
  if (received.length === 0) return false;
  if (received[0] === TELNET_IAC) return false;
  if (received.length >= 4 && received[3] === 0 && received[4] === 10) {
    // MySQL: 3-byte little-endian length, sequence 0, protocol 10.
    const length = received.readUIntLE(0, 3);
    return received.length >= length + 4;
  }
  const text = received.toString('latin1');
  if (/^\d{3}-/.test(text)) return /(^|\n)\d{3} [^\n]*\n/.test(text);
  return text.includes('\n');
}

/** Which parser fits: the greeting's own shape first, the port only to split FTP from SMTP. */
export function parseGreeting(received: Buffer, port: number): Identification | null {
  if (received.length === 0) return null;
  const mysql = parseMysqlHandshake(received);
  if (mysql) return mysql;
  const text = received.toString('latin1');
  if (text.startsWith('SSH-')) return parseSshIdentification(text);
  if (text.startsWith('+OK')) return parsePop3Greeting(text);
  if (text.startsWith('* OK') || text.startsWith('* PREAUTH')) return parseImapGreeting(text);
  if (text.startsWith('500 OOPS: vsftpd')) return parseFtpBanner(text);
  if (/^220[ -]/.test(text)) return parseFtpOrSmtpGreeting(text, port);
  return null;
}

/**
 * A 220 greeting is FTP's or SMTP's: its own words decide, the port only when they do not
 * (undefined when the port is not known, as for a line given to `cve-agent lookup`).
 */
export function parseFtpOrSmtpGreeting(text: string, port: number | undefined): Identification | null {
  const smtpHint = /\b(E?SMTP|Postfix|Exim|Sendmail|mail)\b/i.test(text.split('\n')[0] ?? '');
  const ftpHint = /FTP/i.test(text);
  if (ftpHint || (!smtpHint && (port === 21 || port === 2121))) return parseFtpBanner(text);
  return parseSmtpGreeting(text);
}

/** Reads what a service says first, answering telnet option negotiation on the way. */
export const greetingProbe: TcpProbe = async (context: ProbeContext) => {
  const socket = await context.open();
  if (!socket) return null;
  try {
    const waitMs = greetingPorts.has(context.port) ? context.limits.stepTimeoutMs : Math.min(context.limits.stepTimeoutMs, 1500);
    const first = await socket.read((received) => received.length > 0, waitMs);
    if (first.length === 0) return null;
    if (first[0] === TELNET_IAC) return await telnet(socket, context);
    const greeting = await socket.read(greetingComplete, waitMs);
    const identified = parseGreeting(greeting, context.port);
    if (identified) return located(identified, context.port, 'tcp');
    return located({ service: 'unknown', confidence: 0, evidence: evidenceText(greeting) }, context.port, 'tcp');
  } finally {
    socket.close();
  }
};

async function telnet(socket: BoundedSocket, context: ProbeContext) {
  const text = await negotiateTelnet(socket);
  const identified = parseTelnetBanner(text) ?? { service: 'telnet', confidence: confidence.protocolOnly, evidence: evidenceText(text) };
  return located(identified, context.port, 'tcp');
}

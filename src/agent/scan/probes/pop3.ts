import { confidence, evidenceText, type Identification } from '../service.js';

/** The POP3 greeting (RFC 1939): `+OK` and whatever the server says about itself. */
export function parsePop3Greeting(text: string): Identification | null {
  if (!text.startsWith('+OK')) return null;
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  const evidence = evidenceText(firstLine);
  const dovecot = /\bDovecot(?: \(([^)]+)\))? ready/.exec(firstLine);
  if (dovecot) return { service: 'pop3', product: 'Dovecot', ...(dovecot[1] ? { distro: dovecot[1] } : {}), confidence: confidence.productOnly, evidence };
  if (/Cyrus/i.test(firstLine)) return { service: 'pop3', product: 'Cyrus POP3', confidence: confidence.productOnly, evidence };
  if (/Courier/i.test(firstLine)) return { service: 'pop3', product: 'Courier POP3', confidence: confidence.productOnly, evidence };
  return { service: 'pop3', confidence: confidence.protocolOnly, evidence };
}

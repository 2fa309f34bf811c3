import { confidence, evidenceText, type Identification } from '../service.js';

/** The IMAP greeting (RFC 9051 7.1.1): an untagged OK or PREAUTH, often with capabilities. */
export function parseImapGreeting(text: string): Identification | null {
  if (!text.startsWith('* OK') && !text.startsWith('* PREAUTH')) return null;
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  const evidence = evidenceText(firstLine);
  const dovecot = /\bDovecot(?: \(([^)]+)\))? ready/.exec(firstLine);
  if (dovecot) return { service: 'imap', product: 'Dovecot', ...(dovecot[1] ? { distro: dovecot[1] } : {}), confidence: confidence.productOnly, evidence };
  if (/Courier-IMAP/i.test(firstLine)) return { service: 'imap', product: 'Courier-IMAP', confidence: confidence.productOnly, evidence };
  if (/Cyrus IMAP/i.test(firstLine)) {
    const version = /Cyrus IMAP[^ ]* v?(\d+\.\d+\.\d+)/i.exec(firstLine)?.[1];
    return version
      ? { service: 'imap', product: 'Cyrus IMAP', version, confidence: confidence.exactBanner, evidence }
      : { service: 'imap', product: 'Cyrus IMAP', confidence: confidence.productOnly, evidence };
  }
  return { service: 'imap', confidence: confidence.protocolOnly, evidence };
}

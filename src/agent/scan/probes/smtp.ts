import { confidence, evidenceText, type Identification } from '../service.js';

/** The SMTP 220 greeting (RFC 5321 4.2): Exim and Sendmail print versions, Postfix does not by default. */
export function parseSmtpGreeting(text: string): Identification | null {
  if (!/^220[ -]/.test(text)) return null;
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  const evidence = evidenceText(firstLine);
  const exim = /\bExim (\d+\.\d+(?:\.\d+)*)/.exec(firstLine);
  if (exim?.[1]) return { service: 'smtp', product: 'Exim', version: exim[1], confidence: confidence.exactBanner, evidence };
  const sendmail = /\bSendmail (\d+\.\d+\.\d+)(?:\/[\d.]+)?(?:\/(\S+?))?;/.exec(firstLine);
  if (sendmail?.[1]) {
    return {
      service: 'smtp',
      product: 'Sendmail',
      version: sendmail[1],
      ...(sendmail[2] ? { distro: sendmail[2] } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  const postfix = /\bPostfix(?: \(([^)]+)\))?/.exec(firstLine);
  if (postfix) return { service: 'smtp', product: 'Postfix', ...(postfix[1] ? { distro: postfix[1] } : {}), confidence: confidence.productOnly, evidence };
  if (/Microsoft ESMTP MAIL Service/.test(firstLine))
    return { service: 'smtp', product: 'Microsoft Exchange SMTP', vendor: 'Microsoft', confidence: confidence.productOnly, evidence };
  return { service: 'smtp', confidence: confidence.protocolOnly, evidence };
}

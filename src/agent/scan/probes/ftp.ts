import { routerOsChannelSource, routerOsVersionSource } from '../../../shared/routeros-version.js';
import { confidence, evidenceText, type Identification } from '../service.js';

/** The FTP 220 greeting (RFC 959): servers differ in how much of themselves they print. */
export function parseFtpBanner(text: string): Identification | null {
  const evidence = evidenceText(text.trimEnd());
  // vsftpd refuses a broken config with "500 OOPS: vsftpd: ..." before any greeting.
  if (/^500 OOPS: vsftpd/.test(text)) return { service: 'ftp', product: 'vsftpd', confidence: confidence.productOnly, evidence };
  if (!/^220[ -]/.test(text)) return null;
  const vsftpd = /\(vsFTPd (\d+\.\d+\.\d+)\)/.exec(text);
  if (vsftpd?.[1]) return { service: 'ftp', product: 'vsftpd', version: vsftpd[1], confidence: confidence.exactBanner, evidence };
  const proftpd = /ProFTPD(?: (\d+\.\d+\.\d+[a-z]?))?/.exec(text);
  if (proftpd) {
    const version = proftpd[1];
    const distro = /\((Debian|Ubuntu|[A-Za-z]+ Linux)\)/.exec(text)?.[1];
    return version
      ? {
          service: 'ftp',
          product: 'ProFTPD',
          version,
          ...(distro ? { distro } : {}),
          confidence: confidence.exactBanner,
          evidence,
        }
      : { service: 'ftp', product: 'ProFTPD', ...(distro ? { distro } : {}), confidence: confidence.productOnly, evidence };
  }
  const mikrotik = new RegExp(String.raw`MikroTik FTP server \(MikroTik ${routerOsVersionSource}(?:${routerOsChannelSource})?\)`).exec(text);
  if (mikrotik?.[1]) {
    return {
      service: 'ftp',
      product: 'MikroTik RouterOS',
      vendor: 'MikroTik',
      version: mikrotik[1],
      ...(mikrotik[2] ? { channel: mikrotik[2] } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  if (/Pure-FTPd/i.test(text)) return { service: 'ftp', product: 'Pure-FTPd', confidence: confidence.productOnly, evidence };
  if (/Microsoft FTP Service/.test(text))
    return { service: 'ftp', product: 'Microsoft IIS FTP', vendor: 'Microsoft', confidence: confidence.productOnly, evidence };
  const filezilla = /FileZilla Server(?: version)? (\d+\.\d+\.\d+)/i.exec(text);
  if (filezilla?.[1]) return { service: 'ftp', product: 'FileZilla Server', version: filezilla[1], confidence: confidence.exactBanner, evidence };
  return { service: 'ftp', confidence: confidence.protocolOnly, evidence };
}

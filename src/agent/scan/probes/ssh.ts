import { confidence, evidenceText, type Identification } from '../service.js';

const identificationLine = /^SSH-(\d+\.\d+)-(\S+)(?: (.*))?$/;

/**
 * The SSH identification string (RFC 4253 4.2): `SSH-2.0-softwareversion comments`.
 * OpenSSH portable puts the `pN` release in the version, which NVD keeps in CPE `update`;
 * distributions put their package revision in the comments (`Debian-2+deb12u3`), which is what
 * tells a backported fix apart from a vulnerable build.
 */
export function parseSshIdentification(banner: string): Identification | null {
  const line = banner.split(/\r?\n/).find((candidate) => candidate.startsWith('SSH-'));
  const match = line === undefined ? null : identificationLine.exec(line.trimEnd());
  if (!match || line === undefined) return null;
  const [, , software = '', comments] = match;
  const evidence = evidenceText(line.trimEnd());
  const openssh = /^OpenSSH_(?:for_Windows_)?(\d+\.\d+)(p\d+)?/.exec(software);
  if (openssh) {
    const [, version = '', portable] = openssh;
    return {
      service: 'ssh',
      product: 'OpenSSH',
      vendor: 'OpenBSD',
      version,
      ...(portable ? { update: portable } : {}),
      ...(comments ? { distro: comments.trim() } : software.includes('for_Windows') ? { distro: 'Windows' } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  const dropbear = /^dropbear(?:_(\d{4}\.\d+))?/i.exec(software);
  if (dropbear) {
    const version = dropbear[1];
    return version
      ? { service: 'ssh', product: 'Dropbear SSH', version, confidence: confidence.exactBanner, evidence }
      : { service: 'ssh', product: 'Dropbear SSH', confidence: confidence.productOnly, evidence };
  }
  if (software === 'ROSSSH') {
    // RouterOS's own SSH server names itself but not the RouterOS version.
    return { service: 'ssh', product: 'MikroTik RouterOS SSH', vendor: 'MikroTik', confidence: confidence.productOnly, evidence };
  }
  const libssh = /^libssh[_-](\d+\.\d+\.\d+)/.exec(software);
  if (libssh?.[1]) return { service: 'ssh', product: 'libssh', version: libssh[1], confidence: confidence.exactBanner, evidence };
  return { service: 'ssh', product: software, confidence: confidence.productOnly, evidence };
}

/**
 * CPE 2.3 formatted strings as NVD writes them: part:vendor:product:version:update:edition:
 * language:sw_edition:target_sw:target_hw:other. The vendor:product pairs are the ones NVD's
 * own records use (checked against the records in shared/data/nvd), so the CVE matcher can
 * compare them as they are.
 */
export const cpeProducts = {
  openssh: { part: 'a', vendor: 'openbsd', product: 'openssh' },
  dropbear: { part: 'a', vendor: 'dropbear_ssh_project', product: 'dropbear_ssh' },
  libssh: { part: 'a', vendor: 'libssh', product: 'libssh' },
  nginx: { part: 'a', vendor: 'f5', product: 'nginx' },
  lighttpd: { part: 'a', vendor: 'lighttpd', product: 'lighttpd' },
  apacheHttpd: { part: 'a', vendor: 'apache', product: 'http_server' },
  iis: { part: 'a', vendor: 'microsoft', product: 'internet_information_services' },
  vsftpd: { part: 'a', vendor: 'vsftpd_project', product: 'vsftpd' },
  proftpd: { part: 'a', vendor: 'proftpd', product: 'proftpd' },
  pureftpd: { part: 'a', vendor: 'pureftpd', product: 'pure-ftpd' },
  exim: { part: 'a', vendor: 'exim', product: 'exim' },
  postfix: { part: 'a', vendor: 'postfix', product: 'postfix' },
  sendmail: { part: 'a', vendor: 'sendmail', product: 'sendmail' },
  dovecot: { part: 'a', vendor: 'dovecot', product: 'dovecot' },
  mariadb: { part: 'a', vendor: 'mariadb', product: 'mariadb' },
  mysql: { part: 'a', vendor: 'oracle', product: 'mysql' },
  redis: { part: 'a', vendor: 'redis', product: 'redis' },
  postgresql: { part: 'a', vendor: 'postgresql', product: 'postgresql' },
  dnsmasq: { part: 'a', vendor: 'thekelleys', product: 'dnsmasq' },
  bind: { part: 'a', vendor: 'isc', product: 'bind' },
  unbound: { part: 'a', vendor: 'nlnetlabs', product: 'unbound' },
  netSnmp: { part: 'a', vendor: 'net-snmp', product: 'net-snmp' },
  routeros: { part: 'o', vendor: 'mikrotik', product: 'routeros' },
} as const;

export type CpeProductKey = keyof typeof cpeProducts;

/** Escapes what CPE 2.3 formatted strings reserve (`\`, `:`, `*`, `?` and other punctuation but `-._`). */
function escapeAttribute(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9._-]/g, (c) => `\\${c}`);
}

/** `update` '-' means "not applicable" (OpenSSH_9.3 is the OpenBSD release, not a portable pN). */
export function cpeName(key: CpeProductKey, version: string, update?: string, swEdition?: string): string {
  const { part, vendor, product } = cpeProducts[key];
  const attribute = (value: string | undefined) => (value === undefined ? '*' : value === '-' ? '-' : escapeAttribute(value));
  return `cpe:2.3:${part}:${vendor}:${product}:${attribute(version)}:${attribute(update)}:*:*:${attribute(swEdition)}:*:*:*`;
}

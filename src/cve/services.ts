import { parseRouterOsVersion, routerOsSwEdition, type RouterOsRelease } from '../shared/routeros-version.js';
import { buildCpe, cpeAttributeNames, formatCpe, parseCpe, valueText, type Cpe } from './cpe.js';
import { splitDistroRevision } from './distro.js';
import { hasPreReleaseMarker } from './version.js';

/**
 * From what the scan detected (`OpenSSH 9.2p1`, `RouterOS 7.1rc1 long-term`) to the CPE names
 * NVD uses, with each product's own way of writing versions. The one place that names products
 * as CPEs: probes and the router module report what they saw, never a CPE.
 */

/** A detected service as the scan pipeline hands it over: what was seen, no CPE. */
export interface DetectedService {
  product: string;
  version: string;
  update?: string | undefined;
  /** A release channel printed apart from the version (RouterOS `long-term`, `bugfix`). */
  channel?: string | undefined;
  /** A distribution revision seen in the banner (`Debian-2+deb12u3`, `(Ubuntu)`). */
  distro?: string | undefined;
  /** For display; narrows only the database fallback for products the rules below do not know. */
  vendor?: string | undefined;
}

interface CpeParts {
  version: string;
  update?: string;
  sw_edition?: string;
}

interface ProductRule {
  part: 'a' | 'o' | 'h';
  /** The split reads words after the version too (RouterOS prints its channel there). */
  wholeVersionText?: boolean;
  /** Every vendor:product NVD has used for it (nginx moved from nginx:nginx to f5:nginx). */
  names: readonly (readonly [vendor: string, product: string])[];
  /** Undefined when the text is not a version of the product. */
  split: (version: string, channel: string | undefined) => CpeParts | undefined;
}

/** `7.1rc1` -> version 7.1, update rc1, the way NVD writes pre-releases. */
function splitPreRelease(version: string): CpeParts {
  const match = /^(.*?\d)[-.~]?((?:alpha|beta|rc|pre|preview|dev)\d*)$/i.exec(version);
  return match ? { version: match[1] ?? version, update: (match[2] ?? '').toLowerCase() } : { version };
}

/** OpenSSH: `9.2p1` is version 9.2, update p1; the OpenBSD release `9.3` has update NA. */
function splitOpenSsh(version: string): CpeParts {
  const match = /^(\d+(?:\.\d+)*)(p\d+)?$/i.exec(version);
  if (!match) return splitPreRelease(version);
  return { version: match[1] ?? version, update: match[2]?.toLowerCase() ?? '-' };
}

/**
 * BIND: `9.16.8-S1` is the supported-preview build (update s1, sw_edition supported_preview),
 * `9.12.4-P1` a patch release (update p1); a plain release is the standard edition, which NVD
 * writes as sw_edition NA.
 */
function splitBind(version: string): CpeParts {
  const build = /^(\d+(?:\.\d+)*)-?([sp]\d+)$/i.exec(version);
  if (build) {
    const update = (build[2] ?? '').toLowerCase();
    return { version: build[1] ?? version, update, sw_edition: update.startsWith('s') ? 'supported_preview' : '-' };
  }
  return { ...splitPreRelease(version), sw_edition: '-' };
}

/** RouterOS (shared/routeros-version.ts): rc/beta in update, a release's update NA, the channel in sw_edition. */
function routerOsParts(release: RouterOsRelease): CpeParts {
  const swEdition = routerOsSwEdition(release);
  return { version: release.version, update: release.prerelease ?? '-', ...(swEdition === undefined ? {} : { sw_edition: swEdition }) };
}

function splitRouterOs(version: string, channel: string | undefined): CpeParts | undefined {
  const release = parseRouterOsVersion(version, channel);
  return release === undefined ? undefined : routerOsParts(release);
}

const a = (names: ProductRule['names'], split: ProductRule['split'] = splitPreRelease): ProductRule => ({ part: 'a', names, split });

/** The services cve-agent fingerprints, by the names banners and probes give them. */
const productRules: ReadonlyMap<string, ProductRule> = new Map<string, ProductRule>([
  ['openssh', a([['openbsd', 'openssh']], splitOpenSsh)],
  ['apache', a([['apache', 'http_server']])],
  ['apache httpd', a([['apache', 'http_server']])],
  ['apache http server', a([['apache', 'http_server']])],
  ['httpd', a([['apache', 'http_server']])],
  ['http_server', a([['apache', 'http_server']])],
  [
    'nginx',
    a([
      ['f5', 'nginx'],
      ['nginx', 'nginx'],
    ]),
  ],
  [
    'vsftpd',
    a([
      ['vsftpd_project', 'vsftpd'],
      ['beasts', 'vsftpd'],
    ]),
  ],
  ['proftpd', a([['proftpd', 'proftpd']])],
  ['exim', a([['exim', 'exim']])],
  ['postfix', a([['postfix', 'postfix']])],
  ['dnsmasq', a([['thekelleys', 'dnsmasq']])],
  ['bind', a([['isc', 'bind']], splitBind)],
  ['isc bind', a([['isc', 'bind']], splitBind)],
  ['named', a([['isc', 'bind']], splitBind)],
  ['lighttpd', a([['lighttpd', 'lighttpd']])],
  ['dropbear', a([['dropbear_ssh_project', 'dropbear_ssh']])],
  ['dropbear sshd', a([['dropbear_ssh_project', 'dropbear_ssh']])],
  ['dropbear ssh', a([['dropbear_ssh_project', 'dropbear_ssh']])],
  ['libssh', a([['libssh', 'libssh']])],
  ['pure-ftpd', a([['pureftpd', 'pure-ftpd']])],
  ['sendmail', a([['sendmail', 'sendmail']])],
  ['dovecot', a([['dovecot', 'dovecot']])],
  ['postgresql', a([['postgresql', 'postgresql']])],
  ['unbound', a([['nlnetlabs', 'unbound']])],
  ['net-snmp', a([['net-snmp', 'net-snmp']])],
  ['samba', a([['samba', 'samba']])],
  ['openssl', a([['openssl', 'openssl']])],
  ['iis', a([['microsoft', 'internet_information_services']])],
  ['microsoft iis', a([['microsoft', 'internet_information_services']])],
  ['microsoft-iis', a([['microsoft', 'internet_information_services']])],
  ['mariadb', a([['mariadb', 'mariadb']])],
  ['mysql', a([['oracle', 'mysql']])],
  ['redis', a([['redis', 'redis']])],
  ['routeros', { part: 'o', names: [['mikrotik', 'routeros']], split: splitRouterOs, wholeVersionText: true }],
  ['mikrotik routeros', { part: 'o', names: [['mikrotik', 'routeros']], split: splitRouterOs, wholeVersionText: true }],
  ['winbox', { part: 'o', names: [['mikrotik', 'winbox']], split: splitPreRelease }],
]);

function normaliseName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, ' ');
}

export interface ServiceCandidates {
  /** CPE names to match, most specific first. */
  cpes: string[];
  /** The distribution revision found in the service or its version text. */
  distro: string | undefined;
  /** The upstream version the CPEs carry. */
  version: string;
}

/** A lookup of the products NVD files under a given name, for services the rules above do not know. */
export type VendorsOfProduct = (product: string) => readonly { vendor: string; part: string }[];

/** The CPE names a detected service goes by; an empty list when neither the rules nor the database know the product. */
export function serviceCandidates(service: DetectedService, vendorsOfProduct: VendorsOfProduct): ServiceCandidates {
  const { upstream, distro: gluedDistro } = splitDistroRevision(service.version);
  const distro = service.distro ?? gluedDistro;
  const rule = productRules.get(normaliseName(service.product));
  const parts: CpeParts | undefined = rule
    ? rule.split(rule.wholeVersionText ? service.version.trim() : upstream, service.channel)
    : hasPreReleaseMarker(upstream)
      ? splitPreRelease(upstream)
      : { version: upstream };
  if (parts === undefined) return { cpes: [], distro, version: upstream };
  if (service.update !== undefined) parts.update = service.update;
  let names: { vendor: string; product: string; part: string }[];
  if (rule) {
    // Every name NVD files the product under: a vendor the banner suggests (F5 for nginx) must not hide older filings.
    names = rule.names.map(([vendor, product]) => ({ vendor, product, part: rule.part }));
  } else {
    const product = normaliseName(service.product).replace(/ /g, '_');
    names = vendorsOfProduct(product)
      .filter((entry) => service.vendor === undefined || entry.vendor === service.vendor.toLowerCase())
      .map((entry) => ({ vendor: entry.vendor, product, part: entry.part }));
  }
  const cpes = names.map((name) =>
    formatCpe(
      buildCpe({ part: name.part, vendor: name.vendor, product: name.product, version: parts.version, update: parts.update, sw_edition: parts.sw_edition }),
    ),
  );
  return { cpes, distro, version: upstream };
}

/** The name a detected service is listed under (reports, `scan show`): its first CPE from the rules alone; null when they do not know it. */
export function serviceCpe(service: Partial<DetectedService>): string | null {
  const { product, version } = service;
  if (product === undefined || version === undefined) return null;
  return serviceCandidates({ ...service, product, version }, () => []).cpes[0] ?? null;
}

/**
 * The CPE of a RouterOS device as NVD writes it: channel in sw_edition (`ltr` long-term,
 * `-` stable, `testing`), rc/beta in update, a release's update NA.
 */
export function routerOsCpe(release: RouterOsRelease): string {
  const parts = routerOsParts(release);
  return formatCpe(
    buildCpe({ part: 'o', vendor: 'mikrotik', product: 'routeros', version: parts.version, update: parts.update, sw_edition: parts.sw_edition }),
  );
}

/**
 * A RouterOS CPE an operator types (`cve-agent lookup cpe:…`) may leave a release's update as
 * ANY or keep the pre-release in the version (`7.1rc1`). RouterOS always prints a pre-release
 * tag when there is one, so a release has update NA: without this, a `6.44` router would
 * "match" NVD's `6.44:beta20` testing build with an assumed update. The names built here
 * already follow that rule.
 */
export function normaliseCandidate(cpe: Cpe): Cpe {
  if (valueText(cpe.vendor) !== 'mikrotik' || valueText(cpe.product) !== 'routeros' || cpe.version.kind !== 'value') return cpe;
  const parts = cpe.update.kind === 'any' ? splitPreRelease(cpe.version.text) : { version: cpe.version.text, update: valueText(cpe.update) };
  return buildCpe({
    ...Object.fromEntries(cpeAttributeNames.map((name) => [name, valueText(cpe[name])])),
    version: parts.version,
    update: parts.update ?? '-',
  });
}

/** Human name of a CPE's product for advice text. */
export function productLabel(cpe: string): string {
  const parsed = parseCpe(cpe);
  const product = valueText(parsed.product);
  const labels: Record<string, string> = {
    routeros: 'RouterOS',
    openssh: 'OpenSSH',
    http_server: 'Apache httpd',
    dropbear_ssh: 'Dropbear',
    bind: 'BIND',
    internet_information_services: 'IIS',
  };
  return labels[product] ?? product;
}

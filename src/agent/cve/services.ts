import { buildCpe, cpeAttributeNames, formatCpe, parseCpe, valueText, type Cpe } from './cpe.js';
import { splitDistroRevision } from './distro.js';
import { hasPreReleaseMarker } from './version.js';

/**
 * From what the scan detected (`OpenSSH 9.2p1`, `RouterOS 7.1rc1 long-term`) to the CPE names
 * NVD uses, with each product's own way of writing versions.
 */

/** A detected service as the scan pipeline hands it over. */
export interface DetectedService {
  cpe?: string | undefined;
  product: string;
  version: string;
  update?: string | undefined;
  /** A distribution revision seen in the banner (`Debian-2+deb12u3`, `(Ubuntu)`). */
  distro?: string | undefined;
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
  split: (version: string) => CpeParts;
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

/** RouterOS: a release without rc/beta has update NA; the channel, when printed, goes to sw_edition. */
function splitRouterOs(version: string): CpeParts {
  const channelWord = /\s*\(?\b(long-term|ltr|stable|testing|development)\)?\s*$/i.exec(version);
  const bare = channelWord ? version.slice(0, channelWord.index) : version;
  const parts = splitPreRelease(bare.trim());
  const channel = channelWord?.[1]?.toLowerCase();
  let swEdition =
    channel === 'long-term' || channel === 'ltr'
      ? 'ltr'
      : channel === 'stable'
        ? '-'
        : channel === 'testing' || channel === 'development'
          ? 'testing'
          : undefined;
  // MikroTik publishes rc and beta builds only on the testing (and development) channel.
  if (swEdition === undefined && parts.update !== undefined) swEdition = 'testing';
  return { ...parts, update: parts.update ?? '-', ...(swEdition === undefined ? {} : { sw_edition: swEdition }) };
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
  if (service.cpe !== undefined) {
    parseCpe(service.cpe);
    return { cpes: [service.cpe], distro, version: upstream };
  }
  const rule = productRules.get(normaliseName(service.product));
  const parts: CpeParts = rule
    ? rule.split(rule.wholeVersionText ? service.version.trim() : upstream)
    : hasPreReleaseMarker(upstream)
      ? splitPreRelease(upstream)
      : { version: upstream };
  if (service.update !== undefined) parts.update = service.update;
  let names: { vendor: string; product: string; part: string }[];
  if (rule) {
    names = rule.names
      .filter(([vendor]) => service.vendor === undefined || vendor === service.vendor.toLowerCase())
      .map(([vendor, product]) => ({ vendor, product, part: rule.part }));
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

/**
 * The CPE of a RouterOS device as NVD writes it: channel in sw_edition (`ltr` long-term,
 * `-` stable, `testing`), rc/beta in update. For the scan pipeline's router inventory.
 */
export function routerOsCpe(version: string, channel?: 'long-term' | 'stable' | 'testing' | 'development'): string {
  const parts = splitRouterOs(channel === undefined ? version : `${version} ${channel}`);
  return formatCpe(
    buildCpe({ part: 'o', vendor: 'mikrotik', product: 'routeros', version: parts.version, update: parts.update, sw_edition: parts.sw_edition }),
  );
}

/**
 * RouterOS CPEs from other parts of the agent may leave a release's update as ANY or keep the
 * pre-release in the version (`7.1rc1`). RouterOS always prints a pre-release tag when there
 * is one, so a release has update NA: without this, a `6.44` router would "match" NVD's
 * `6.44:beta20` testing build with an assumed update.
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

import { CveError } from './errors.js';
import type { DetectedService } from './services.js';

/**
 * What an operator types after `cve-agent lookup`, recognised in this order (the first that fits
 * decides, so no query has two readings):
 * 1. `cpe:` at the start: a CPE 2.3 name.
 * 2. a banner or header line a scanner sees (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`,
 *    `Server: nginx/1.22.1`, `220 (vsFTPd 3.0.3)`, `5.5.5-10.11.6-MariaDB-0+deb12u1`...), when the
 *    caller's banner reader (the scanner's own parsers) says the line has a banner shape;
 * 3. otherwise `<product> <version>` (`openssh 9.2p1`, `Apache/2.4.57 (Debian)`, `routeros 7.1rc1 long-term`).
 */
export type LookupQuery =
  { kind: 'cpe'; cpe: string } | { kind: 'banner'; shape: string; service: DetectedService } | { kind: 'service'; service: DetectedService };

/**
 * The scanner's banner parsers as the CVE layer sees them (it may not import the agent): undefined
 * when the line has no banner shape, else the shape's name and what its parser read (null when it
 * read nothing).
 */
export type BannerReader = (line: string) => { shape: string; identification: Partial<DetectedService> | null } | undefined;

export function parseLookup(query: string, readBanner?: BannerReader): LookupQuery {
  const text = query.trim();
  if (/^cpe:/i.test(text)) return { kind: 'cpe', cpe: text };
  const banner = readBanner?.(text);
  if (banner !== undefined) return { kind: 'banner', shape: banner.shape, service: bannerService(query, banner.shape, banner.identification) };
  const match = /^(.*?[^\s_/-])[\s_/-]+v?(\d.*)$/i.exec(text);
  if (!match) {
    throw new CveError('CVE_ERR_LOOKUP_INVALID', `"${query}" is neither a CPE 2.3 name, a banner, nor "<product> <version>" (e.g. "openssh 9.2p1")`);
  }
  return { kind: 'service', service: { product: match[1] ?? '', version: match[2] ?? '' } };
}

/** A banner that names no product or no version cannot be matched: say which of the two it lacks. */
function bannerService(query: string, shape: string, seen: Partial<DetectedService> | null): DetectedService {
  if (!seen?.product) throw new CveError('CVE_ERR_LOOKUP_INVALID', `"${query}" (${shape}) names no product`);
  if (!seen.version) throw new CveError('CVE_ERR_LOOKUP_INVALID', `"${query}" (${shape}) names ${seen.product} but not its version`);
  const { product, version, update, channel, distro, vendor } = seen;
  return {
    product,
    version,
    ...(update === undefined ? {} : { update }),
    ...(channel === undefined ? {} : { channel }),
    ...(distro === undefined ? {} : { distro }),
    ...(vendor === undefined ? {} : { vendor }),
  };
}

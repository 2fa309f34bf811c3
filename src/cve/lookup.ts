import { CveError } from './errors.js';
import type { DetectedService } from './services.js';

/**
 * What an operator types after `cve-agent lookup`: a CPE name, or a product and version the
 * way banners print them (`openssh 9.2p1`, `OpenSSH_9.2p1 Debian-2+deb12u3`,
 * `Apache/2.4.57 (Debian)`, `routeros 7.1rc1 long-term`).
 */
export type LookupQuery = { kind: 'cpe'; cpe: string } | { kind: 'service'; service: DetectedService };

export function parseLookup(query: string): LookupQuery {
  const text = query.trim();
  if (/^cpe:/i.test(text)) return { kind: 'cpe', cpe: text };
  const match = /^(.*?[^\s_/-])[\s_/-]+v?(\d.*)$/i.exec(text);
  if (!match) {
    throw new CveError('CVE_ERR_LOOKUP_INVALID', `"${query}" is neither a CPE 2.3 name nor "<product> <version>" (e.g. "openssh 9.2p1")`);
  }
  return { kind: 'service', service: { product: match[1] ?? '', version: match[2] ?? '' } };
}

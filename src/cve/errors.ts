import { CatalogError, type CatalogEntry } from '../shared/catalog-error.js';

/**
 * The CVE layer's typed errors: raised by the feed parsers, the NVD client and lookups, which
 * serve both the agent and the control plane's feed hub. Documented in docs/errors.md with the
 * daemons' own; a test keeps the two in step.
 */
export const cveErrors = {
  CVE_ERR_FEED_INVALID: { exitCode: 65, message: 'the CVE feed file is not NVD CVE JSON' },
  CVE_ERR_FEED_UNREADABLE: { exitCode: 66, message: 'the CVE feed path cannot be read' },
  CVE_ERR_LOOKUP_INVALID: { exitCode: 65, message: 'the lookup is neither a CPE 2.3 name nor a known product and version' },
  CVE_ERR_NVD_UNAVAILABLE: { exitCode: 69, message: 'the NVD API did not answer after retries' },
  CVE_ERR_NVD_REFUSED: { exitCode: 77, message: 'the NVD API refused the request' },
  CVE_ERR_NVD_PROTOCOL: { exitCode: 76, message: 'the NVD API sent a malformed page' },
  CVE_ERR_DISTRO_STATUS_INVALID: { exitCode: 65, message: 'a distribution tracker row is malformed' },
  CVE_ERR_SOURCE_UNAVAILABLE: { exitCode: 69, message: 'an intelligence source did not answer after retries' },
  CVE_ERR_SOURCE_PROTOCOL: { exitCode: 76, message: 'an intelligence source sent a malformed body' },
  CVE_ERR_DELTA_INVALID: { exitCode: 65, message: 'the feed delta is not a valid edge-cve delta file' },
  CVE_ERR_DELTA_VERSION: { exitCode: 65, message: 'the feed delta does not start at the feed version this database holds' },
} as const satisfies Record<string, CatalogEntry>;

export type CveErrorCode = keyof typeof cveErrors;

export class CveError extends CatalogError<CveErrorCode> {
  constructor(code: CveErrorCode, message?: string, options?: { cause?: unknown; details?: readonly string[] }) {
    super(cveErrors, code, message, options);
    this.name = 'CveError';
  }
}

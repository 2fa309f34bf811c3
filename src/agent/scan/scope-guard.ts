import { AgentError } from '../errors.js';
import { isCanonicalIPv4 } from '../../shared/ipv4.js';

/**
 * The one gate every scanner socket passes: an address not in the scan's allowed set is refused
 * before any socket exists, so a bug elsewhere (a router table listing a foreign host, a
 * redirect, a parsing slip) can never send a packet outside the site.
 */
export class ScopeGuard {
  readonly #allowed: ReadonlySet<string>;
  #refusals = 0;

  constructor(allowed: Iterable<string>) {
    this.#allowed = new Set(allowed);
  }

  allows(address: string): boolean {
    return isCanonicalIPv4(address) && this.#allowed.has(address);
  }

  /** Throws AGENT_ERR_SCAN_OUT_OF_SCOPE naming the address; returns it when allowed. */
  check(address: string): string {
    if (!this.allows(address)) {
      this.#refusals += 1;
      throw new AgentError('AGENT_ERR_SCAN_OUT_OF_SCOPE', `refused to connect to ${JSON.stringify(address)}: it is outside the scan scope`);
    }
    return address;
  }

  get refusals(): number {
    return this.#refusals;
  }

  get size(): number {
    return this.#allowed.size;
  }
}

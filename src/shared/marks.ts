/**
 * Accepted/mitigated marks: which one is in force for a finding, and when it lapses because the
 * device changed. One rule for the agent's reports and the control plane's API.
 */

export type MarkStatus = 'accepted' | 'mitigated' | 'open';

/** What marks and report deltas key a device by: its MAC where known, else its IP (a weaker identity). */
export function deviceKey(host: { mac: string | null; ip: string }): string {
  return host.mac ?? host.ip;
}

/** Splits a CPE 2.3 formatted string at its unescaped colons. */
function cpeFields(cpe: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < cpe.length; i++) {
    const c = cpe[i];
    if (c === '\\' && i + 1 < cpe.length) {
      current += c + cpe[i + 1];
      i++;
    } else if (c === ':') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

/**
 * What a mark is made for: `product:version[:update]` of the finding's CPE. The vendor (an NVD
 * alias such as f5 vs nginx) and the edition (a RouterOS channel learnt later) are no device
 * change; a new update (OpenSSH 9.2p1 -> 9.2p2) is. The update is left out when it is ANY or NA.
 * Undefined for text that is no CPE 2.3 string.
 */
export function productKey(cpe: string): string | undefined {
  const fields = cpeFields(cpe);
  if (fields.length !== 13 || fields[0] !== 'cpe' || fields[1] !== '2.3') return undefined;
  const [product, version, update] = [fields[4], fields[5], fields[6]];
  return update === '*' || update === '-' ? `${product}:${version}` : `${product}:${version}:${update}`;
}

export interface MarkLike {
  status: MarkStatus;
  expires_at: string | null;
  created_at: string;
  /** The CPE of the finding the mark was made for; null: made before any finding, it applies to every version. */
  cpe: string | null;
}

/**
 * The mark in force for a finding, or undefined when the finding is open. `marks` are one
 * device's marks for one CVE, in any order. The newest unexpired mark counts (an expiry at or
 * before `now` has passed); status `open` clears. It lapses once the finding's product key
 * differs from the one it was made for. Marks created at the same instant keep their given order
 * (put the later-inserted first).
 */
export function markInForce<M extends MarkLike>(marks: readonly M[], finding: { cpe: string }, now: Date): M | undefined {
  const at = now.getTime();
  const live = marks
    .filter((mark) => mark.expires_at === null || Date.parse(mark.expires_at) > at)
    .map((mark, index) => ({ mark, index }))
    .sort((a, b) => Date.parse(b.mark.created_at) - Date.parse(a.mark.created_at) || a.index - b.index);
  const newest = live[0]?.mark;
  if (newest === undefined || newest.status === 'open') return undefined;
  const keyOf = (cpe: string) => productKey(cpe) ?? cpe;
  if (newest.cpe !== null && keyOf(newest.cpe) !== keyOf(finding.cpe)) return undefined;
  return newest;
}

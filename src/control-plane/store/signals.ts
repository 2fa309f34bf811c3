/**
 * What both engines' ClusterSignals share: the commands channel, the payload bound (PostgreSQL's
 * NOTIFY refuses 8,000 bytes; we stay under 7 KB, as the spec says) and the chunking of site id lists.
 */

/** The channel of "commands were stored for these sites" (a JSON array of site ids). */
export const COMMANDS_CHANNEL = 'cp_commands';

/** Bytes of UTF-8 a payload may have. */
export const SIGNAL_PAYLOAD_LIMIT = 7000;

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws on a channel name PostgreSQL would need quoting for, or on a payload over the bound: a bug, not input. */
export function checkSignal(channel: string, payload: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`signal channel ${JSON.stringify(channel)} is not [a-z_][a-z0-9_]* (at most 63 characters)`);
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes >= SIGNAL_PAYLOAD_LIMIT) throw new Error(`signal payload on ${channel} is ${bytes} bytes; the limit is ${SIGNAL_PAYLOAD_LIMIT}`);
}

/** The distinct site ids as JSON arrays of at most `limit` bytes each (a command to 2,000 sites is several wake-ups). */
export function chunkSiteIds(siteIds: readonly string[], limit = SIGNAL_PAYLOAD_LIMIT - 1): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const id of new Set(siteIds)) {
    const cost = Buffer.byteLength(JSON.stringify(id), 'utf8') + 1;
    if (cost + 2 > limit) throw new Error(`site id too long for a signal: ${id.slice(0, 80)}`);
    if (size + cost > limit && current.length > 0) {
      chunks.push(JSON.stringify(current));
      current = [];
      size = 2;
    }
    current.push(id);
    size += cost;
  }
  if (current.length > 0) chunks.push(JSON.stringify(current));
  return chunks;
}

/** The site ids of a commands payload; [] for anything else (a payload is never trusted to be well formed). */
export function parseSiteIds(payload: string): string[] {
  try {
    const value: unknown = JSON.parse(payload);
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

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

/**
 * The items as JSON arrays of at most `limit` bytes each, in order; an item too big for any chunk
 * is handed to `tooBig` and left out.
 */
export function chunkJson(items: Iterable<unknown>, limit: number, tooBig: (item: unknown) => void): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const cost = Buffer.byteLength(json, 'utf8') + 1;
    if (cost + 2 > limit) {
      tooBig(item);
      continue;
    }
    if (size + cost > limit && current.length > 0) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += cost;
  }
  if (current.length > 0) chunks.push(`[${current.join(',')}]`);
  return chunks;
}

/** The distinct site ids as JSON arrays of at most `limit` bytes each (a command to 2,000 sites is several wake-ups). */
export function chunkSiteIds(siteIds: readonly string[], limit = SIGNAL_PAYLOAD_LIMIT - 1): string[] {
  return chunkJson(new Set(siteIds), limit, (id) => {
    throw new Error(`site id too long for a signal: ${String(id).slice(0, 80)}`);
  });
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

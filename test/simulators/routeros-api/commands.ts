import type { RouterData } from '../router-data.js';
import { encodeLength, encodeSentence } from './wire.js';

/** Misbehaviours the API simulator can be asked for; menu names are API paths such as `/ip/arp`. */
export interface ApiFaults {
  /** Every login fails as with a wrong password. */
  rejectLogin?: boolean;
  /** Never answer /login. */
  silentLogin?: boolean;
  /** RouterOS 7.18+: an empty print answers `!empty` then `!done`. */
  emptyReplies?: boolean;
  /** Every byte in its own TCP segment. */
  splitEveryByte?: boolean;
  /** Each sentence's final zero byte in a segment of its own, a moment later. */
  nulAlone?: boolean;
  /** Every length prefix at least this wide (legal; RouterOS uses the shortest form). */
  minLengthWidth?: 2 | 3 | 4 | 5;
  /** Prints of these menus ('*' for all) are never answered. */
  noReplyTo?: readonly string[];
  /** This menu's reply stops halfway with a TCP reset. */
  resetMidReply?: string;
  /** This menu's print is answered with `!fatal` and the session closed. */
  fatalOn?: string;
  /** This menu's reply starts with a reserved length byte (0xF8). */
  malformedLengthOn?: string;
  /** This menu's reply declares a word of about 2 GiB, then stalls. */
  hugeWordOn?: string;
  /** This menu's reply is an unknown reply word. */
  unknownReplyOn?: string;
  /** Menu -> message of a `!trap` reply (category 0 unless the message says otherwise). */
  trapOn?: Readonly<Record<string, string>>;
}

export type Answer =
  { kind: 'sentences'; sentences: string[][] } | { kind: 'raw'; before: string[][]; bytes: Buffer; then?: 'reset' | 'end' } | { kind: 'silent' };

/** Applies `=.proplist=` the way RouterOS does: only the listed keys, in the row's order. */
function project(row: Record<string, string>, proplist: string | undefined): [string, string][] {
  const entries = Object.entries(row);
  if (proplist === undefined) return entries;
  const wanted = new Set(proplist.split(','));
  return entries.filter(([key]) => wanted.has(key));
}

export function answerCommand(command: string, attrs: Record<string, string>, tag: string[], data: RouterData, faults: ApiFaults): Answer {
  if (command === '/cancel') {
    // Nothing here streams, so every cancel finds its command already done.
    return {
      kind: 'sentences',
      sentences: [
        ['!trap', ...tag, '=category=0', '=message=no such command or directory (cancel)'],
        ['!done', ...tag],
      ],
    };
  }
  if (!command.endsWith('/print')) {
    return {
      kind: 'sentences',
      sentences: [
        ['!trap', ...tag, '=message=no such command prefix'],
        ['!done', ...tag],
      ],
    };
  }
  const menu = command.slice(0, -'/print'.length);
  if (faults.noReplyTo?.includes(menu) || faults.noReplyTo?.includes('*')) return { kind: 'silent' };
  const trap = faults.trapOn?.[menu];
  if (trap !== undefined)
    return {
      kind: 'sentences',
      sentences: [
        ['!trap', ...tag, '=category=0', `=message=${trap}`],
        ['!done', ...tag],
      ],
    };
  if (faults.fatalOn === menu) return { kind: 'raw', before: [], bytes: encodeSentence(['!fatal', 'out of memory']), then: 'end' };
  if (faults.malformedLengthOn === menu) return { kind: 'raw', before: [], bytes: Buffer.from([0xf8, 0x21, 0x72, 0x65]) };
  if (faults.hugeWordOn === menu) return { kind: 'raw', before: [], bytes: Buffer.concat([encodeLength(0x7fff0000, 5), Buffer.from('!re')]) };
  if (faults.unknownReplyOn === menu)
    return {
      kind: 'sentences',
      sentences: [
        ['!weird', ...tag],
        ['!done', ...tag],
      ],
    };

  const rows = data.menus[menu];
  if (rows === undefined)
    return {
      kind: 'sentences',
      sentences: [
        ['!trap', ...tag, '=message=no such command prefix'],
        ['!done', ...tag],
      ],
    };
  const sentences = rows.map((row) => ['!re', ...tag, ...project(row, attrs['.proplist']).map(([key, value]) => `=${key}=${value}`)]);
  if (faults.resetMidReply === menu) {
    const half = sentences.slice(0, Math.max(1, Math.floor(sentences.length / 2)));
    const bytes = Buffer.concat(half.map((words) => encodeSentence(words)));
    // Half a sentence more, so the reset lands inside a word.
    return { kind: 'raw', before: [], bytes: Buffer.concat([bytes, encodeSentence(['!re', ...tag, '=address=10.']).subarray(0, 6)]), then: 'reset' };
  }
  if (rows.length === 0 && faults.emptyReplies) sentences.push(['!empty', ...tag]);
  sentences.push(['!done', ...tag]);
  return { kind: 'sentences', sentences };
}

import { routerOsChannelSource, routerOsVersionSource } from '../../../shared/routeros-version.js';
import { confidence, evidenceText, type Identification } from '../service.js';
import type { BoundedSocket } from './io.js';

export const TELNET_IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

export interface TelnetSplit {
  text: string;
  /** Our refusals: WONT for each DO, DONT for each WILL (RFC 854/855). */
  replies: Buffer;
  /** Bytes of an unfinished command at the end, kept for the next chunk. */
  rest: number;
}

/** Separates option negotiation from text and builds the refusals to send back. */
export function splitTelnet(data: Buffer): TelnetSplit {
  const text: number[] = [];
  const replies: number[] = [];
  let index = 0;
  while (index < data.length) {
    const byte = data[index] ?? 0;
    if (byte !== TELNET_IAC) {
      text.push(byte);
      index += 1;
      continue;
    }
    const command = data[index + 1];
    if (command === undefined) break;
    if (command === TELNET_IAC) {
      text.push(TELNET_IAC);
      index += 2;
    } else if (command === DO || command === DONT || command === WILL || command === WONT) {
      const option = data[index + 2];
      if (option === undefined) break;
      if (command === DO) replies.push(TELNET_IAC, WONT, option);
      if (command === WILL) replies.push(TELNET_IAC, DONT, option);
      index += 3;
    } else if (command === SB) {
      const end = data.indexOf(Buffer.from([TELNET_IAC, SE]), index + 2);
      if (end < 0) break;
      index = end + 2;
    } else {
      index += 2;
    }
  }
  return { text: Buffer.from(text).toString('latin1'), replies: Buffer.from(replies), rest: data.length - index };
}

/** Refuses every option the server asks for, then reads its banner up to the login prompt. */
export async function negotiateTelnet(socket: BoundedSocket): Promise<string> {
  let consumed = 0;
  let text = '';
  const quietMs = Math.min(700, socket.limits.stepTimeoutMs);
  const prompt = /(login|username|password)\s*:\s*$/i;
  for (let round = 0; round < 20; round += 1) {
    const received = socket.received;
    const split = splitTelnet(received.subarray(consumed));
    consumed = received.length - split.rest;
    text += split.text;
    if (split.replies.length > 0) socket.write(split.replies);
    if (prompt.test(text) || socket.truncated) break;
    const more = await socket.read((all) => all.length > received.length, quietMs);
    if (more.length === received.length) break;
  }
  return text;
}

/** RouterOS prints "MikroTik v6.49.7 (stable)" before its login prompt. */
export function parseTelnetBanner(text: string): Identification | null {
  const trimmed = text.replace(/\r/g, '').trim();
  if (trimmed.length === 0) return null;
  const evidence = evidenceText(trimmed);
  const mikrotik = new RegExp(`MikroTik ${routerOsVersionSource}(?:${routerOsChannelSource})?`).exec(trimmed);
  if (mikrotik?.[1]) {
    return {
      service: 'telnet',
      product: 'MikroTik RouterOS',
      vendor: 'MikroTik',
      version: mikrotik[1],
      ...(mikrotik[2] ? { channel: mikrotik[2] } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  return { service: 'telnet', confidence: confidence.protocolOnly, evidence };
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The public RouterOS captures copied from shared/data/routeros (headers kept, as their licences ask). */
export const capturesDir = fileURLToPath(new URL('../fixtures/routeros/', import.meta.url));

const sentinel = '# ----- verbatim output follows this line -----\n';

export interface ConsoleCapture {
  file: string;
  /** The CLI command as the header names it, e.g. `/ip arp print terse without-paging`. */
  command: string;
  headers: Record<string, string[]>;
  /** Everything after the sentinel, untouched (LF line ends as stored). */
  text: string;
}

export interface ApiCapture {
  file: string;
  /** The API menu, e.g. `/ip/arp` for `/ip/arp/print`. */
  menu: string;
  /** Rows as the wire carries them: every value a string. */
  rows: Record<string, string>[];
}

/** Splits a console capture on its sentinel line; the header is `# key: value` lines. */
export function readConsoleCapture(file: string): ConsoleCapture {
  const raw = readFileSync(path.resolve(capturesDir, file), 'utf8');
  const at = raw.indexOf(sentinel);
  if (at < 0) throw new Error(`${file}: no sentinel line`);
  const headers: Record<string, string[]> = {};
  for (const line of raw.slice(0, at).split('\n')) {
    const match = /^# ([a-z-]+): (.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) (headers[match[1]] ??= []).push(match[2]);
  }
  const command = (headers.command?.[0] ?? '').replace(/ \(.*\)$/, '');
  return { file, command, headers, text: raw.slice(at + sentinel.length) };
}

/** librouteros had turned "true" into true and "4" into 4; the wire has strings only. */
function wireValue(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

export function readApiCapture(file: string): ApiCapture {
  const json = JSON.parse(readFileSync(path.resolve(capturesDir, file), 'utf8')) as { _command: string; data: Record<string, unknown>[] };
  const command = /(\/rest)?(\/[a-z0-9/-]+)/.exec(json._command.replace(/^GET /, ''));
  const menu = (command?.[2] ?? '').replace(/\/print$/, '');
  const rows = json.data.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, wireValue(value)])));
  return { file, menu, rows };
}

export const consoleCaptureFiles = (): string[] =>
  readdirSync(capturesDir)
    .filter((file) => file.startsWith('ssh.'))
    .sort();
export const apiCaptureFiles = (): string[] =>
  readdirSync(capturesDir)
    .filter((file) => /^(api|rest)\..*\.json$/.test(file))
    .sort();

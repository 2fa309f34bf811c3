/**
 * What every RouterOS console output needs before parsing: line ends, colour codes, the log
 * lines the console interleaves (`17:20:06 echo: system,error,critical login failure ...`),
 * and prompt echoes of an interactive shell.
 */

// Colour and cursor codes: +ct turns them off, but a router without it (or an old one) still sends some.
// eslint-disable-next-line no-control-regex -- ESC is the very byte being removed
const ansi = /\u001b\[[0-9;?]*[A-Za-z]/g;
const logEcho = /^\s*\d{1,2}:\d{2}:\d{2} echo: /;
const prompt = /^\s*\[[^\]\s]+@[^\]]+\] [^>]*> /;

export function consoleLines(text: string): string[] {
  return text
    .replace(ansi, '')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => !logEcho.test(line) && !prompt.test(line));
}

/** Lines RouterOS prints instead of a result when a command fails; the first one found, if any. */
const errorLine =
  /^\s*(bad command name .*|syntax error.*|expected .*\(line \d+ column \d+\)|no such item.*|failure: .*|not enough permissions.*|input does not match .*|invalid value .*)$/;

export function consoleError(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const match = errorLine.exec(line);
    if (match?.[1] !== undefined) return match[1].trim();
  }
  return undefined;
}

/**
 * A value as the console prints it: quoted with backslash escapes (`\"`, `\\`, `\n`, `\_`
 * for a space, `\4F` for a byte) or bare.
 */
export function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return unescapeQuoted(value.slice(1, -1));
}

const simpleEscapes: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  _: ' ',
  a: '\u0007',
  b: '\b',
  f: '\f',
  v: '\v',
  $: '$',
  '?': '?',
  '"': '"',
  '\\': '\\',
};

export function unescapeQuoted(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i] ?? '';
    if (char !== '\\' || i === body.length - 1) {
      out += char;
      continue;
    }
    const next = body[i + 1] ?? '';
    const hex = body.slice(i + 1, i + 3);
    // RouterOS prints bytes as upper-case hex; lower-case letters are the C-style escapes.
    if (/^[0-9A-F]{2}$/.test(hex)) {
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else {
      out += simpleEscapes[next] ?? next;
      i += 1;
    }
  }
  return out;
}

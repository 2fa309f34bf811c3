import pino, { type Logger } from 'pino';

/**
 * The logger of the CLI's one-shot commands: one human line per entry on stderr
 * ("cve-agent: warning: ... page=3 records=2000"), never a JSON object or a stack; an error's
 * message stands for the whole error. The daemon logs JSON.
 */
export function createCliLogger(program: string, level: 'info' | 'warn' | 'error' = 'warn'): Logger {
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(line: string) {
        const {
          level: number,
          msg,
          err,
          ...fields
        } = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } } & Record<string, unknown>;
        const kind = number >= 50 ? 'error: ' : number >= 40 ? 'warning: ' : '';
        const cause = err?.message ? `: ${err.message.split('\n')[0]}` : '';
        // Scalar fields carry the facts of a progress line (a page, a count); nested ones stay in the daemon's JSON.
        const facts = Object.entries(fields)
          .filter(([, value]) => value === null || ['string', 'number', 'boolean'].includes(typeof value))
          .map(([key, value]) => ` ${key}=${String(value)}`)
          .join('');
        process.stderr.write(`${program}: ${kind}${msg ?? ''}${cause}${facts}\n`);
      },
    },
  );
}

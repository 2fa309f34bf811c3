import pino, { type Logger } from 'pino';

/**
 * The logger of the CLI's one-shot commands: warnings and errors as one human line each on
 * stderr ("cve-agent: warning: ..."), never a JSON object or a stack. The daemon logs JSON.
 */
export function createCliLogger(program: string, level: 'warn' | 'error' = 'warn'): Logger {
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
        const kind = entry.level >= 50 ? 'error' : 'warning';
        const cause = entry.err?.message ? `: ${entry.err.message.split('\n')[0]}` : '';
        process.stderr.write(`${program}: ${kind}: ${entry.msg ?? ''}${cause}\n`);
      },
    },
  );
}

import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths pino replaces with "[Redacted]" wherever they appear in a log line. */
export const redactPaths = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'router.password',
  'control_plane.token',
  'config.router.password',
  'config.control_plane.token',
  'headers.authorization',
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * JSON lines to stdout (or the given stream): under systemd journald keeps the time and
 * rotates, so the agent never writes log files of its own.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cve-agent' },
      redact: { paths: redactPaths, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

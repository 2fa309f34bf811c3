import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths pino replaces with "[Redacted]" wherever they appear in a log line, in both daemons. */
export const redactPaths = [
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  '*.*.password',
  '*.*.token',
  '*.*.secret',
  'hs256_secret',
  '*.hs256_secret',
  'router.password',
  'control_plane.token',
  'config.router.password',
  'config.control_plane.token',
  'headers.authorization',
  'req.headers.authorization',
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export type ServiceName = 'cve-agent' | 'cve-control-plane';

/**
 * The one logger factory: JSON lines to stdout (or the given stream). Under systemd journald
 * keeps the time and rotates, so neither daemon writes log files of its own. Every line names
 * its service, and secrets are redacted by the same list in both.
 */
export function createLogger(service: ServiceName, level: LogLevel | string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: { paths: redactPaths, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

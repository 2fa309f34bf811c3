import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { redactPaths } from '../../src/shared/logger.js';

export interface CapturedLogger {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  messages: () => string[];
}

/** A real pino logger (with the agent's redaction) writing into memory, so tests can read what was logged. */
export function captureLogger(level = 'trace'): CapturedLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level, redact: { paths: redactPaths, censor: '[Redacted]' } }, stream);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, messages: () => lines().map((line) => String(line.msg)) };
}

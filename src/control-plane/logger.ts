import pino, { type DestinationStream, type Logger } from 'pino';
import { redactPaths } from '../agent/logger.js';

/** The agent's redactions plus the control plane's own secrets (JWT secret, webhook keys, site tokens). */
export const controlPlaneRedactPaths = [...redactPaths, 'secret', '*.secret', '*.*.secret', 'hs256_secret', '*.hs256_secret', 'req.headers.authorization'];

export function createControlPlaneLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cve-control-plane' },
      redact: { paths: controlPlaneRedactPaths, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

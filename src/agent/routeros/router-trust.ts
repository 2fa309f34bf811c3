import tls from 'node:tls';
import type { Logger } from 'pino';
import type { RouterSettings } from '../config/load.js';
import { abortReason, fromSocketError, timeoutError, type RouterTarget } from './router-errors.js';
import { tlsFingerprint, type PinKey, type RouterPins, type StoredPin } from './router-identity.js';
import { configuredPin, pinnedEndpoints, tlsOptions } from './router-source.js';
import { probeSshHostKey } from './ssh/ssh-client.js';

/** What `cve-agent router trust` shows for one endpoint. */
export interface PresentedIdentity extends PinKey {
  /** The fingerprint the router presents now; null for a TLS router without a certificate or one that could not be reached. */
  presented: string | null;
  /** Why it could not be asked, if it could not. */
  error: string | null;
  /** Pinned in config.yaml: it wins, and `router trust` cannot change it. */
  configured: string | null;
  /** Learned or accepted before, in agent.db. */
  stored: StoredPin | null;
}

/** The SHA-256 fingerprint of the certificate a TLS server presents; the session ends after the handshake, before a byte is written. */
export function probeTlsCertificate(target: RouterTarget, options: tls.ConnectionOptions, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...options, host: target.host, port: target.port });
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      settle();
    };
    const onAbort = () => finish(() => reject(abortReason(signal)));
    const timer = setTimeout(() => finish(() => reject(timeoutError(target, timeoutMs, 'TLS handshake'))), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      finish(() => resolve(certificate.raw === undefined ? undefined : tlsFingerprint(certificate.raw)));
    });
    socket.once('error', (error) => finish(() => reject(fromSocketError(error, target, timeoutMs))));
  });
}

/**
 * Asks each endpoint a read relies on (the configured transport's, the SSH fallback's) for its
 * identity without logging in, and sets it beside what is pinned.
 */
export async function presentedIdentities(settings: RouterSettings, pins: RouterPins, logger: Logger, signal: AbortSignal): Promise<PresentedIdentity[]> {
  const timeoutMs = settings.timeout_seconds * 1000;
  const out: PresentedIdentity[] = [];
  for (const key of pinnedEndpoints(settings)) {
    let presented: string | undefined;
    let error: string | null = null;
    try {
      presented =
        key.transport === 'ssh'
          ? await probeSshHostKey(key, timeoutMs, logger, signal)
          : await probeTlsCertificate(key, tlsOptions(settings), timeoutMs, signal);
    } catch (failure) {
      if (signal.aborted) throw failure;
      error = failure instanceof Error ? failure.message : String(failure);
    }
    out.push({ ...key, presented: presented ?? null, error, configured: configuredPin(settings, key) ?? null, stored: pins.get(key) ?? null });
  }
  return out;
}

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentError } from '../errors.js';
import { routerError, type RouterTarget } from './router-errors.js';

/**
 * The router's identity: its SSH host key and its API-SSL certificate, each pinned by
 * fingerprint. A pin comes from config.yaml (it wins) or is learned on first use and kept in
 * agent.db; a session whose peer shows anything else is refused before a credential is sent.
 */

/** The transports with an identity to pin: plain API has none. */
export type PinnedTransport = 'ssh' | 'api-ssl';

/** One pinned endpoint: the router's address, port and transport as configured. */
export interface PinKey {
  host: string;
  port: number;
  transport: PinnedTransport;
}

export interface StoredPin {
  fingerprint: string;
  /** When it was first learned or last accepted with `cve-agent router trust` (UTC ISO 8601). */
  pinned_at: string;
}

/** Where learned fingerprints are kept: agent.db (RouterPinRepository) or memory. */
export interface RouterPins {
  get(key: PinKey): StoredPin | undefined;
  set(key: PinKey, fingerprint: string): void;
}

/** Pins kept for the life of the object: for tests and tools without a database. */
export function memoryRouterPins(): RouterPins {
  const pins = new Map<string, StoredPin>();
  const id = (key: PinKey) => `${key.transport} ${key.host} ${key.port}`;
  return {
    get: (key) => pins.get(id(key)),
    set: (key, fingerprint) => void pins.set(id(key), { fingerprint, pinned_at: new Date().toISOString() }),
  };
}

/** OpenSSH's form, as `ssh-keygen -lf` prints it: `SHA256:` and the unpadded base64 of the key blob's SHA-256. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** OpenSSL's form, as `openssl x509 -noout -fingerprint -sha256` prints it: upper-case hex pairs with colons, of the DER certificate. */
export function tlsFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}

const what = { ssh: 'SSH host key', 'api-ssl': 'TLS certificate' } as const;
const configKey = { ssh: 'router.ssh_host_key_fingerprint', 'api-ssl': 'router.tls_fingerprint' } as const;

export interface IdentityPolicy {
  key: PinKey;
  /** From config.yaml (the schema writes it in the form above); wins over a stored pin. */
  configured: string | undefined;
  pins: RouterPins;
  logger: Logger;
}

/** The session's target as errors name it: the pinned endpoint. */
const targetOf = (key: PinKey): RouterTarget => ({ host: key.host, port: key.port, transport: key.transport });

/** The pin in effect for an endpoint, and where it comes from. */
export function pinInEffect(policy: Pick<IdentityPolicy, 'key' | 'configured' | 'pins'>): { fingerprint: string; source: string } | undefined {
  if (policy.configured !== undefined) return { fingerprint: policy.configured, source: `${configKey[policy.key.transport]} in the config` };
  const stored = policy.pins.get(policy.key);
  return stored === undefined ? undefined : { fingerprint: stored.fingerprint, source: `learned ${stored.pinned_at}` };
}

/**
 * Decides on the fingerprint a peer presented (undefined: a TLS peer without a certificate).
 * Returns the error to refuse with, or undefined to go on; learns the fingerprint when
 * nothing is pinned yet, with a warning naming it.
 */
export function checkIdentity(policy: IdentityPolicy, presented: string | undefined): AgentError | undefined {
  const { key } = policy;
  const pinned = pinInEffect(policy);
  const advice =
    policy.configured !== undefined
      ? `if the router was re-keyed on purpose put the new fingerprint in ${configKey[key.transport]}`
      : 'if the router was re-keyed on purpose run `cve-agent router trust`';
  if (presented === undefined) {
    if (pinned === undefined) {
      policy.logger.warn(
        { host: key.host, port: key.port, transport: key.transport },
        `router ${key.host}:${key.port} (${key.transport}): no certificate to pin`,
      );
      return undefined;
    }
    return routerError(
      'AGENT_ERR_ROUTER_IDENTITY',
      targetOf(key),
      `presented no ${what[key.transport]}, but ${pinned.fingerprint} is pinned (${pinned.source}); ${advice}`,
    );
  }
  if (pinned === undefined) {
    policy.pins.set(key, presented);
    policy.logger.warn(
      { host: key.host, port: key.port, transport: key.transport, fingerprint: presented },
      `router ${key.host}:${key.port} (${key.transport}): first use, pinned its ${what[key.transport]} ${presented}`,
    );
    return undefined;
  }
  if (pinned.fingerprint === presented) return undefined;
  return routerError(
    'AGENT_ERR_ROUTER_IDENTITY',
    targetOf(key),
    `presented ${what[key.transport]} ${presented}, but ${pinned.fingerprint} is pinned (${pinned.source}); ${advice}`,
  );
}

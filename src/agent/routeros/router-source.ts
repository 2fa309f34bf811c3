import { readFileSync } from 'node:fs';
import { DEFAULT_CIPHERS as tlsDefaultCiphers, type ConnectionOptions } from 'node:tls';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RouterSettings } from '../config/load.js';
import { AgentError } from '../errors.js';
import type { ApiClientOptions } from './api/api-client.js';
import { createApiReader } from './api/api-reader.js';
import { apiLoadSession, createCpuLoadReader, sshLoadSession, type CpuLoadReader } from './cpu-load.js';
import { createInventoryMerge, type Sighting } from './inventory.js';
import type { Inventory } from './inventory-schema.js';
import type { VendorLookup } from './mac.js';
import { parseRecords } from './records.js';
import { isRouterError, routerError, type RouterTarget } from './router-errors.js';
import { parseRouterOsVersion } from '../../shared/routeros-version.js';
import { checkIdentity, memoryRouterPins, type PinKey, type RouterPins } from './router-identity.js';
import type { SshClientOptions } from './ssh/ssh-client.js';
import { createSshReader } from './ssh/ssh-reader.js';
import type { ReadResult, RowSink, TableReader } from './table-reader.js';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Where first/last seen per MAC is kept between reads (agent.db); optional. */
export interface InventoryHistory {
  sighting(mac: string): Sighting | undefined;
  record(inventory: Inventory): void;
}

export interface RouterSourceDeps {
  settings: RouterSettings;
  logger: Logger;
  vendors: VendorLookup;
  history?: InventoryHistory;
  /**
   * Where the router's SSH host key and TLS certificate fingerprints are pinned once learned
   * (RouterPinRepository on agent.db); without it they are learned for this source's life only.
   */
  pins?: RouterPins;
  retry?: RetryPolicy;
  /** Waits between retries; tests record the delays instead of sleeping. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** 0..1, spreads retries of many agents; tests pass a constant. */
  random?: () => number;
}

export interface RouterCheck {
  transport: 'api' | 'api-ssl' | 'ssh';
  target: string;
  version: string;
  channel: string | null;
  identity: string | null;
  board: string | null;
  counts: { arp: number; leases: number; bridgeHosts: number; neighbors: number; ipv6Neighbors: number; addresses: number };
  warnings: string[];
}

export const defaultRetry: RetryPolicy = { attempts: 4, baseDelayMs: 2000, maxDelayMs: 30_000 };

/** Worth another try: the router may be rebooting or the link flapping. Auth, TLS and protocol errors are not. */
// An identity mismatch (AGENT_ERR_ROUTER_IDENTITY) is not retried either: it is a decision, not a fault.
const retryable = new Set(['AGENT_ERR_ROUTER_UNREACHABLE', 'AGENT_ERR_ROUTER_TIMEOUT', 'AGENT_ERR_ROUTER_CLOSED']);

/**
 * The socket's TLS options. With `tls.ca_file` the CA checks the certificate (unless
 * `reject_unauthorized: false`); without it the pinned fingerprint does (RouterOS certificates
 * are mostly self-signed), so CA verification is off and the check runs once the handshake is done.
 */
export function tlsOptions(settings: RouterSettings): ConnectionOptions {
  const caFile = settings.tls?.ca_file;
  const options: ConnectionOptions = { rejectUnauthorized: caFile !== undefined && (settings.tls?.reject_unauthorized ?? true) };
  if (caFile !== undefined) options.ca = readFileSync(caFile);
  // A router without a certificate on api-ssl speaks anonymous DH only; OpenSSL 3 allows it at
  // level 0, and only if the list does not also say !aNULL (a "!" removes a cipher for good).
  // Only `reject_unauthorized: false` lets such a router in, and only while no certificate is pinned.
  if (settings.tls?.reject_unauthorized === false) options.ciphers = `${tlsDefaultCiphers.replace(':!aNULL', '')}:ADH-AES256-GCM-SHA384:@SECLEVEL=0`;
  return options;
}

/** The endpoints whose identity a read relies on: the configured transport's and the SSH fallback's. */
export function pinnedEndpoints(settings: RouterSettings): PinKey[] {
  const endpoints: PinKey[] = [];
  if (settings.transport !== 'api') endpoints.push({ host: settings.host, port: settings.port, transport: settings.transport });
  if (settings.transport !== 'ssh' && settings.ssh_fallback) endpoints.push({ host: settings.host, port: settings.ssh_port, transport: 'ssh' });
  return endpoints;
}

/** The fingerprint config.yaml pins for an endpoint, if any. */
export const configuredPin = (settings: RouterSettings, key: PinKey): string | undefined =>
  key.transport === 'ssh' ? settings.ssh_host_key_fingerprint : settings.tls_fingerprint;

/** Options of the configured transport's client, and of the SSH client the fallback uses when the API port is closed. */
function clientOptions(
  deps: Pick<RouterSourceDeps, 'settings' | 'logger'>,
  pins: RouterPins,
): { primary: { kind: 'api'; options: ApiClientOptions } | { kind: 'ssh'; options: SshClientOptions }; fallback: SshClientOptions | undefined } {
  const { settings, logger } = deps;
  const timeoutMs = settings.timeout_seconds * 1000;
  const credentials = { user: settings.user, password: settings.password, timeoutMs, logger };
  const judge = (key: PinKey) => (fingerprint: string | undefined) =>
    checkIdentity({ key, configured: configuredPin(settings, key), pins, logger }, fingerprint);
  const ssh = (port: number): SshClientOptions => {
    const key: PinKey = { host: settings.host, port, transport: 'ssh' };
    return { ...credentials, target: key, verifyHostKey: judge(key) };
  };
  if (settings.transport === 'ssh') return { primary: { kind: 'ssh', options: ssh(settings.port) }, fallback: undefined };
  const target: RouterTarget = { host: settings.host, port: settings.port, transport: settings.transport };
  const tls = settings.transport === 'api-ssl' ? { options: tlsOptions(settings), verifyPeer: judge({ ...target, transport: 'api-ssl' }) } : undefined;
  return { primary: { kind: 'api', options: { ...credentials, target, tls } }, fallback: settings.ssh_fallback ? ssh(settings.ssh_port) : undefined };
}

/**
 * How to open a session with the configured router, for the watch: the API client's options (none
 * when the transport is ssh) and the SSH client's for a port, each judging the router's identity by its pins.
 */
export function sessionOptions(
  deps: Pick<RouterSourceDeps, 'settings' | 'logger'>,
  pins: RouterPins,
): { api: ApiClientOptions | undefined; ssh: (port: number) => SshClientOptions } {
  const { primary } = clientOptions(deps, pins);
  const ssh = (port: number): SshClientOptions => {
    const over = clientOptions({ ...deps, settings: { ...deps.settings, transport: 'ssh', port } }, pins).primary;
    return over.options as SshClientOptions;
  };
  return { api: primary.kind === 'api' ? primary.options : undefined, ssh };
}

/** The configured reader, and the SSH reader the fallback uses when the API port is closed. */
function readers(deps: RouterSourceDeps, pins: RouterPins): { primary: TableReader; fallback: TableReader | undefined } {
  const { logger } = deps;
  const { primary, fallback } = clientOptions(deps, pins);
  const ssh = (options: SshClientOptions) => createSshReader({ client: options, logger });
  return {
    primary: primary.kind === 'ssh' ? ssh(primary.options) : createApiReader({ client: primary.options, logger }),
    fallback: fallback === undefined ? undefined : ssh(fallback),
  };
}

export const portClosed = (error: unknown): boolean =>
  error instanceof AgentError && error.code === 'AGENT_ERR_ROUTER_UNREACHABLE' && /connection refused/.test(error.message);

/**
 * Reads the router with the configured transport, falls back to SSH when the API port is
 * closed, and retries what may pass (unreachable, timeout, closed) with capped exponential
 * backoff; after the last try the router is reported offline with the last reason.
 */
export function createRouterSource(deps: RouterSourceDeps) {
  const retry = deps.retry ?? defaultRetry;
  const sleep = deps.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
  const random = deps.random ?? Math.random;
  const { settings, logger } = deps;
  const target: RouterTarget = { host: settings.host, port: settings.port, transport: settings.transport };
  const pins = deps.pins ?? memoryRouterPins();

  /** One try; each reader hands its rows to a fresh merge from `sinkFor` (a retry or the fallback starts over); none: tables. */
  async function readOnce<S extends { row: RowSink } | undefined>(
    signal: AbortSignal,
    sinkFor: () => S,
  ): Promise<{ read: ReadResult; transport: TableReader['transport']; sink: S }> {
    const { primary, fallback } = readers(deps, pins);
    try {
      const sink = sinkFor();
      return { read: await primary.read(signal, sink?.row), transport: primary.transport, sink };
    } catch (error) {
      if (fallback === undefined || !portClosed(error)) throw error;
      logger.warn({ host: settings.host, port: settings.port, ssh_port: settings.ssh_port }, 'router API port closed; reading over SSH');
      let read: ReadResult;
      const sink = sinkFor();
      try {
        read = await fallback.read(signal, sink?.row);
      } catch (fallbackError) {
        // Say both: the API port was closed, and why SSH did not do either.
        if (!isRouterError(fallbackError) || !isRouterError(error)) throw fallbackError;
        const reason = (failure: AgentError) => failure.message.replace(/^router \S+ \(\S+\): /, '');
        throw routerError(fallbackError.code, target, `${reason(error)}; SSH fallback on ${settings.ssh_port}: ${reason(fallbackError)}`, fallbackError);
      }
      read.warnings.unshift(`API port ${settings.port} closed; read over SSH`);
      return { read, transport: 'ssh', sink };
    }
  }

  async function readTables<S extends { row: RowSink } | undefined>(signal: AbortSignal, sinkFor: () => S, policy: RetryPolicy = retry) {
    let last: unknown;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      signal.throwIfAborted();
      try {
        return await readOnce(signal, sinkFor);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!(isRouterError(error) && retryable.has(error.code))) {
          logger.warn({ err: error, code: (error as { code?: unknown }).code }, 'router read failed');
          throw error;
        }
        last = error;
        if (attempt === policy.attempts) break;
        const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.75 + random() * 0.5);
        logger.warn({ code: error.code, attempt, retry_in_ms: Math.round(delay) }, `router read failed: ${error.message}`);
        await sleep(Math.round(delay), signal);
      }
    }
    if (policy.attempts === 1) throw last;
    const reason = last instanceof Error ? last.message.replace(/^router \S+ \(\S+\): /, '') : String(last);
    throw routerError('AGENT_ERR_ROUTER_OFFLINE', target, `offline after ${policy.attempts} tries: ${reason}`, last);
  }

  return {
    /** The full inventory, merged and (with a history) remembered; throws a typed error or the abort reason. */
    async readInventory(signal: AbortSignal): Promise<Inventory> {
      // Rows go into the merge as they arrive: no table of raw rows is kept beside it.
      const { read, transport, sink: merge } = await readTables(signal, createInventoryMerge);
      const inventory = merge.finish({
        read,
        target: { ...target, transport },
        vendors: deps.vendors,
        history: deps.history ? (mac) => deps.history?.sighting(mac) : undefined,
      });
      deps.history?.record(inventory);
      logger.info(
        { transport, hosts: inventory.hosts.length, neighbors: inventory.neighbors.length, warnings: inventory.warnings.length },
        'router inventory read',
      );
      return inventory;
    },

    /**
     * The router's CPU load, read on one kept session while a scan runs (the polite scanner);
     * the SSH fallback takes over when the API port is closed. Close it when the scan ends.
     */
    openLoadReader(): CpuLoadReader {
      const { primary, fallback } = clientOptions(deps, pins);
      const open = () => (primary.kind === 'ssh' ? sshLoadSession(primary.options) : apiLoadSession(primary.options));
      return createCpuLoadReader(open, fallback === undefined ? undefined : { open: () => sshLoadSession(fallback), when: portClosed });
    },

    /** One try, no retries: what `cve-agent router check` prints, or the exact reason it could not. */
    async check(signal: AbortSignal): Promise<RouterCheck> {
      const { read, transport } = await readTables(signal, () => undefined, { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 });
      const { records, rejected } = parseRecords(read.tables);
      const version = parseRouterOsVersion(records.resource[0]?.version);
      if (version === undefined) throw routerError('AGENT_ERR_ROUTER_PROTOCOL', target, '/system/resource gave no readable version');
      return {
        transport,
        target: `${settings.host}:${transport === 'ssh' && settings.transport !== 'ssh' ? settings.ssh_port : settings.port}`,
        version: version.display,
        channel: version.channel ?? null,
        identity: records.identity[0]?.name ?? null,
        board: records.resource[0]?.['board-name'] ?? records.routerboard[0]?.model ?? null,
        counts: {
          arp: records.arp.length,
          leases: records.leases.length,
          bridgeHosts: records.bridgeHosts.length,
          neighbors: records.neighbors.length,
          ipv6Neighbors: records.ipv6Neighbors.length,
          addresses: records.addresses.length,
        },
        warnings: [...read.warnings, ...rejected],
      };
    },
  };
}

export type RouterSource = ReturnType<typeof createRouterSource>;

/**
 * A real control plane on 127.0.0.1:0 with a temporary SQLite file (or a fresh PostgreSQL database
 * in the `postgres` test project: test/helpers/store-engine.ts), JWT minting for its HS256
 * secret, and a contract checker that validates responses against the server's own /openapi.json
 * with openapi-backend (ajv).
 */
import addFormats from 'ajv-formats';
import { SignJWT } from 'jose';
import { OpenAPIBackend } from 'openapi-backend';
import pino from 'pino';
import { expect } from 'vitest';
import type { Clock } from '../../../src/shared/clock.js';
import { buildConfig } from '../../../src/control-plane/config/load.js';
import { createControlPlane, type ControlPlane, type ControlPlaneDeps } from '../../../src/control-plane/main.js';
import { generateSiteToken, hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import type { ControlPlaneStore } from '../../../src/control-plane/store/types.js';
import { openEngineStore } from '../../helpers/store-engine.js';
import { tempDir } from '../../helpers/temp.js';

export const JWT_SECRET = 'test-secret-of-at-least-thirty-two-bytes-0123456789';
export const WEBHOOK_SECRET = 'webhook-secret';

export interface Harness {
  cp: ControlPlane;
  store: ControlPlaneStore;
  url: string;
  dir: string;
  jwt(claims?: { org?: string; scope?: string; sub?: string; exp?: number | string }, secret?: string): Promise<string>;
  request(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; raw?: string; contentType?: string },
  ): Promise<{ status: number; body: unknown; text: string; headers: Headers }>;
  addSite(org?: string, name?: string): Promise<{ id: string; token: string }>;
  stop(): Promise<void>;
}

export const ALL_SCOPES = 'cve:view cve:create cve:update cve:delete';

export async function startHarness(
  options: {
    config?: Record<string, unknown>;
    clock?: Clock;
    dir?: string;
    webhooks?: string[];
    hubLimits?: { pauseAbove: number; resumeBelow: number };
    consoleDir?: string;
    live?: ControlPlaneDeps['live'];
  } = {},
): Promise<Harness> {
  const dir = options.dir ?? tempDir('cp-');
  const logger = pino({ level: process.env.CP_TEST_LOG ?? 'silent' });
  const raw = {
    state_dir: dir,
    log_level: 'warn',
    // TEST_LISTEN_HOST: engineers sharing a machine each keep to their own loopback address.
    listen: { host: process.env.TEST_LISTEN_HOST ?? '127.0.0.1', port: 0 },
    auth: { hs256_secret: JWT_SECRET },
    notification_groups: { 'security-alerts': { secret: WEBHOOK_SECRET, webhooks: options.webhooks ?? ['http://127.0.0.1:9/never'] } },
    notifications: { max_attempts: 3, backoff_initial_seconds: 0.05, backoff_max_seconds: 0.2, timeout_seconds: 2 },
    ...options.config,
  };
  const { config } = buildConfig(raw, undefined);
  const clock = options.clock ?? { now: () => new Date() };
  const store = await openEngineStore(dir, logger);
  const cp = createControlPlane({
    config,
    store,
    clock,
    logger,
    slotTickMs: 200,
    hubLimits: options.hubLimits,
    consoleDir: options.consoleDir,
    live: options.live,
  });
  await cp.start();
  const url = cp.url();
  const harness: Harness = {
    cp,
    store,
    url,
    dir,
    async jwt(claims = {}, secret = JWT_SECRET) {
      // Times come from the control plane's clock, which a test may have moved.
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      const { org = 'org-a', scope = ALL_SCOPES, sub = 'user-1', exp = nowSeconds + 600 } = claims;
      return new SignJWT({ org, scope })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    },
    async request(method, path, { body, token, raw: rawBody, contentType } = {}) {
      const bearer = token === null ? undefined : (token ?? (await harness.jwt()));
      const headers: Record<string, string> = {};
      if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = contentType ?? 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed, text, headers: response.headers };
    },
    async addSite(org = 'org-a', name = 'site') {
      const id = crypto.randomUUID();
      const token = generateSiteToken();
      const at = new Date().toISOString();
      await store.sites.create({
        id,
        org_id: org,
        name,
        created_at: at,
        token_rotated_at: at,
        last_seen_at: null,
        agent_version: null,
        token_hash: hashSiteToken(token),
      });
      return { id, token };
    },
    async stop() {
      await cp.stop();
      await store.close();
    },
  };
  return harness;
}

export interface Contract {
  /** Asserts the response's status is documented for the operation and its body matches the documented schema. */
  check(method: string, path: string, response: { status: number; body: unknown }): void;
  document: Record<string, unknown>;
}

// Compiling the document's schemas takes a second or two: each test file does it once per distinct document.
const compiled = new Map<string, Promise<Contract>>();

export async function loadContract(url: string): Promise<Contract> {
  const text = await (await fetch(`${url}/openapi.json`)).text();
  let contract = compiled.get(text);
  if (!contract) {
    contract = compile(JSON.parse(text) as Record<string, unknown>);
    compiled.set(text, contract);
  }
  return contract;
}

async function compile(document: Record<string, unknown>): Promise<Contract> {
  const api = new OpenAPIBackend({
    definition: structuredClone(document) as never,
    quick: false,
    validate: true,
    strict: true,
    customizeAjv: (ajv) => {
      addFormats.default(ajv as never);
      // The seed's own formats: a float is any number, its time_of_day is HH:mm (not RFC 3339 time).
      ajv.addFormat('float', true);
      ajv.addFormat('time', /^([0-1]?[0-9]|2[0-3]):[0-5][0-9]$/);
      return ajv;
    },
  });
  await api.init();
  return {
    document,
    check(method, path, response) {
      const operation = api.matchOperation({ method, path, headers: {} });
      expect(operation, `${method} ${path} is in /openapi.json`).toBeDefined();
      const op = operation as unknown as { responses?: Record<string, unknown> };
      const documented = Object.keys(op.responses ?? {});
      expect(documented, `${method} ${path} documents status ${response.status}`).toContain(String(response.status));
      const spec = op.responses?.[String(response.status)] as Record<string, unknown>;
      if (!('content' in spec) && !('$ref' in spec)) {
        expect(response.body, `${method} ${path} ${response.status} has no body`).toBeUndefined();
        return;
      }
      const result = api.validateResponse(response.body, operation as never, response.status);
      expect(result.errors ?? [], `${method} ${path} ${response.status}: ${String(JSON.stringify(response.body)).slice(0, 500)}`).toEqual([]);
    },
  };
}

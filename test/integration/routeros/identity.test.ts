import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../../src/agent/store/database.js';
import { RouterPinRepository } from '../../../src/agent/routeros/pin-repository.js';
import { memoryRouterPins } from '../../../src/agent/routeros/router-identity.js';
import { captureLogger } from '../../helpers/logger.js';
import { certificate, sshHostKey } from './identity-keys.js';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator } from '../../simulators/routeros-ssh/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { eventually, oneTrySource, routerSettings } from './helpers.js';

const data = routerFromCaptures();
const silent = pino({ level: 'silent' });

const stores: OpenedStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/** agent.db in a fresh state directory: the pins the agent keeps. */
function pinStore(): RouterPinRepository {
  const store = openStore({ stateDir: tempDir('router-pins-'), logger: silent, exclusive: false });
  stores.push(store);
  return new RouterPinRepository(store.db);
}

describe('the SSH host key is pinned', () => {
  it('learns the key on first use, stores it and says so; a changed key is refused before any credential is sent', async () => {
    const first = sshHostKey();
    const second = sshHostKey();
    const sim = await startSshSimulator({ data, hostKey: first.privateKey });
    try {
      const pins = pinStore();
      const captured = captureLogger('warn');
      const settings = routerSettings({ port: sim.port, transport: 'ssh' });
      await oneTrySource(settings, { pins, logger: captured.logger }).check(AbortSignal.timeout(20_000));
      expect(pins.get({ host: '127.0.0.1', port: sim.port, transport: 'ssh' })?.fingerprint).toBe(first.fingerprint);
      const learned = captured.lines().find((line) => line.fingerprint === first.fingerprint);
      expect(learned).toMatchObject({ level: 40, transport: 'ssh', port: sim.port });
      expect(String(learned?.msg)).toContain(first.fingerprint);

      // The same key again: read as before, nothing new learned.
      await oneTrySource(settings, { pins, logger: captured.logger }).check(AbortSignal.timeout(20_000));
      expect(captured.lines()).toHaveLength(1);

      sim.setHostKey(second.privateKey);
      sim.authAttempts.length = 0;
      sim.logins.length = 0;
      const refused = oneTrySource(settings, { pins }).check(AbortSignal.timeout(20_000));
      await expect(refused).rejects.toMatchObject({ code: 'AGENT_ERR_ROUTER_IDENTITY', exitCode: 77 });
      const message = ((await refused.catch((error: unknown) => error)) as Error).message;
      expect(message).toBe(
        `router 127.0.0.1:${sim.port} (ssh): presented SSH host key ${second.fingerprint}, but ${first.fingerprint} is pinned (learned ${
          pins.get({ host: '127.0.0.1', port: sim.port, transport: 'ssh' })?.pinned_at
        }); if the router was re-keyed on purpose run \`cve-agent router trust\``,
      );
      // Refused during key exchange: the server never saw a user name, let alone the password.
      expect(sim.authAttempts).toEqual([]);
      expect(sim.logins).toEqual([]);
      expect(sim.commands.length).toBeGreaterThan(0);
      expect(pins.get({ host: '127.0.0.1', port: sim.port, transport: 'ssh' })?.fingerprint).toBe(first.fingerprint);
      expect(await eventually(() => sim.connections() === 0)).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('refuses a key other than the configured one, and a configured pin wins over a stored one', async () => {
    const presented = sshHostKey();
    const other = sshHostKey();
    const sim = await startSshSimulator({ data, hostKey: presented.privateKey });
    try {
      const pins = memoryRouterPins();
      const settings = routerSettings({ port: sim.port, transport: 'ssh', ssh_host_key_fingerprint: other.fingerprint });
      await expect(oneTrySource(settings, { pins }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_IDENTITY',
        message: `router 127.0.0.1:${sim.port} (ssh): presented SSH host key ${presented.fingerprint}, but ${other.fingerprint} is pinned (router.ssh_host_key_fingerprint in the config); if the router was re-keyed on purpose put the new fingerprint in router.ssh_host_key_fingerprint`,
      });
      expect(sim.authAttempts).toEqual([]);
      // A configured pin is not learned into the store.
      expect(pins.get({ host: '127.0.0.1', port: sim.port, transport: 'ssh' })).toBeUndefined();

      // Stored says "other", config says "presented": the config wins and the read works.
      pins.set({ host: '127.0.0.1', port: sim.port, transport: 'ssh' }, other.fingerprint);
      const check = await oneTrySource({ ...settings, ssh_host_key_fingerprint: presented.fingerprint }, { pins }).check(AbortSignal.timeout(20_000));
      expect(check.transport).toBe('ssh');
      expect(sim.logins).toEqual(['admin+ct']);
    } finally {
      await sim.stop();
    }
  });

  it('pins the SSH fallback port too: an impostor there gets no password when the API port is closed', async () => {
    const first = sshHostKey();
    const sim = await startSshSimulator({ data, hostKey: first.privateKey });
    const closed = await startApiSimulator({ data });
    const apiPort = closed.port;
    await closed.stop();
    try {
      const pins = memoryRouterPins();
      pins.set({ host: '127.0.0.1', port: sim.port, transport: 'ssh' }, sshHostKey().fingerprint);
      const settings = routerSettings({ port: apiPort, transport: 'api', ssh_fallback: true, ssh_port: sim.port });
      await expect(oneTrySource(settings, { pins }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_IDENTITY',
        message: expect.stringContaining(`presented SSH host key ${first.fingerprint}`),
      });
      expect(sim.authAttempts).toEqual([]);
    } finally {
      await sim.stop();
    }
  });
});

describe('the API-SSL certificate is pinned', () => {
  it('learns a self-signed certificate on first use without a CA; a changed one is refused before the login is written', async () => {
    const first = certificate();
    const second = certificate();
    const sim = await startApiSimulator({ data, tls: { key: first.key, cert: first.cert } });
    try {
      const pins = pinStore();
      const captured = captureLogger('warn');
      // The defaults: no ca_file, reject_unauthorized true. The pin is the check.
      const settings = routerSettings({ port: sim.port, transport: 'api-ssl', tls: { reject_unauthorized: true } });
      expect((await oneTrySource(settings, { pins, logger: captured.logger }).check(AbortSignal.timeout(20_000))).transport).toBe('api-ssl');
      expect(pins.get({ host: '127.0.0.1', port: sim.port, transport: 'api-ssl' })?.fingerprint).toBe(first.fingerprint);
      expect(captured.lines()).toEqual([
        expect.objectContaining({ level: 40, fingerprint: first.fingerprint, msg: expect.stringContaining(first.fingerprint) }),
      ]);

      sim.setCertificate(second);
      const before = sim.received.length;
      const logins = sim.logins.length;
      await expect(oneTrySource(settings, { pins }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_IDENTITY',
        message: expect.stringMatching(
          new RegExp(
            `^router 127\\.0\\.0\\.1:${sim.port} \\(api-ssl\\): presented TLS certificate ${second.fingerprint}, but ${first.fingerprint} is pinned \\(learned [^)]+\\); if the router was re-keyed on purpose run \`cve-agent router trust\`$`,
          ),
        ),
      });
      // Not a word reached the simulator: no /login, no password.
      expect(sim.received.length).toBe(before);
      expect(sim.logins.length).toBe(logins);
      expect(await eventually(() => sim.connections() === 0)).toBe(true);
    } finally {
      await sim.stop();
    }
  });

  it('refuses a certificate other than router.tls_fingerprint, and reads with the right one', async () => {
    const presented = certificate();
    const other = certificate();
    const sim = await startApiSimulator({ data, tls: { key: presented.key, cert: presented.cert } });
    try {
      const settings = routerSettings({ port: sim.port, transport: 'api-ssl', tls: { reject_unauthorized: true }, tls_fingerprint: other.fingerprint });
      await expect(oneTrySource(settings).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_IDENTITY',
        message: expect.stringContaining(
          `presented TLS certificate ${presented.fingerprint}, but ${other.fingerprint} is pinned (router.tls_fingerprint in the config)`,
        ),
      });
      expect(sim.received).toEqual([]);
      expect((await oneTrySource({ ...settings, tls_fingerprint: presented.fingerprint }).check(AbortSignal.timeout(20_000))).identity).toBe('MikroTik');
    } finally {
      await sim.stop();
    }
  });

  it('refuses a router without a certificate where one is pinned, even with reject_unauthorized: false', async () => {
    const sim = await startApiSimulator({ data, tls: 'anonymous' });
    try {
      const pinned = certificate().fingerprint;
      const pins = memoryRouterPins();
      pins.set({ host: '127.0.0.1', port: sim.port, transport: 'api-ssl' }, pinned);
      const settings = routerSettings({ port: sim.port, transport: 'api-ssl', tls: { reject_unauthorized: false } });
      await expect(oneTrySource(settings, { pins }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_IDENTITY',
        message: expect.stringContaining(`presented no TLS certificate, but ${pinned} is pinned`),
      });
      expect(sim.received).toEqual([]);
    } finally {
      await sim.stop();
    }
  });
});

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRouterSource } from '../../../src/agent/routeros/router-source.js';
import { startApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator } from '../../simulators/routeros-ssh/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { routerSettings, silentLogger, vendors } from './helpers.js';

const data = routerFromCaptures();

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('transport fallback', () => {
  it('reads over SSH when the API port is closed and ssh_fallback is on', async () => {
    const ssh = await startSshSimulator({ data });
    try {
      const settings = routerSettings({ port: await closedPort(), ssh_fallback: true, ssh_port: ssh.port });
      const source = createRouterSource({ settings, logger: silentLogger, vendors: vendors(), retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
      const inventory = await source.readInventory(AbortSignal.timeout(20_000));
      expect(inventory.transport).toBe('ssh');
      expect(inventory.router.version).toBe('6.42.5');
      expect(inventory.warnings[0]).toBe(`API port ${settings.port} closed; read over SSH`);
      const check = await source.check(AbortSignal.timeout(20_000));
      expect(check).toMatchObject({ transport: 'ssh', target: `127.0.0.1:${ssh.port}` });
    } finally {
      await ssh.stop();
    }
  });

  it('does not fall back on a wrong password: that is not a closed port', async () => {
    const api = await startApiSimulator({ data, faults: { rejectLogin: true } });
    const ssh = await startSshSimulator({ data });
    try {
      const settings = routerSettings({ port: api.port, ssh_fallback: true, ssh_port: ssh.port });
      await expect(createRouterSource({ settings, logger: silentLogger, vendors: vendors() }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_AUTH',
      });
      expect(ssh.logins).toEqual([]);
    } finally {
      await api.stop();
      await ssh.stop();
    }
  });

  it('names both reasons when the SSH fallback fails too', async () => {
    const apiPort = await closedPort();
    const sshPort = await closedPort();
    const settings = routerSettings({ port: apiPort, ssh_fallback: true, ssh_port: sshPort });
    await expect(
      createRouterSource({ settings, logger: silentLogger, vendors: vendors(), retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } }).check(
        AbortSignal.timeout(20_000),
      ),
    ).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_UNREACHABLE',
      message: `router 127.0.0.1:${apiPort} (api): connection refused on ${apiPort}; SSH fallback on ${sshPort}: connection refused on ${sshPort}`,
    });
  });

  it('without ssh_fallback a closed API port stays an error', async () => {
    const settings = routerSettings({ port: await closedPort(), ssh_fallback: false });
    await expect(createRouterSource({ settings, logger: silentLogger, vendors: vendors() }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_UNREACHABLE',
    });
  });
});

describe('retries of a router that is down', () => {
  it('retries with capped exponential backoff, then reports the router offline with the last reason', async () => {
    const port = await closedPort();
    const delays: number[] = [];
    const source = createRouterSource({
      settings: routerSettings({ port }),
      logger: silentLogger,
      vendors: vendors(),
      retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 5000 },
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    await expect(source.readInventory(AbortSignal.timeout(20_000))).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_OFFLINE',
      message: `router 127.0.0.1:${port} (api): offline after 5 tries: connection refused on ${port}`,
    });
    expect(delays).toEqual([1000, 2000, 4000, 5000]);
  });

  it('recovers when the router comes back between tries', async () => {
    const port = await closedPort();
    const delays: number[] = [];
    let sim: Awaited<ReturnType<typeof startApiSimulator>> | undefined;
    const source = createRouterSource({
      settings: routerSettings({ port }),
      logger: silentLogger,
      vendors: vendors(),
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        // The router finishes booting during the first wait.
        sim ??= await startApiSimulator({ data, port });
      },
    });
    try {
      const inventory = await source.readInventory(AbortSignal.timeout(20_000));
      expect(inventory.router.version).toBe('7.4');
      expect(delays).toEqual([10]);
    } finally {
      await sim?.stop();
    }
  });

  it('does not retry what another try cannot fix', async () => {
    const api = await startApiSimulator({ data, faults: { rejectLogin: true } });
    const delays: number[] = [];
    try {
      const source = createRouterSource({
        settings: routerSettings({ port: api.port }),
        logger: silentLogger,
        vendors: vendors(),
        sleep: async (ms) => void delays.push(ms),
      });
      await expect(source.readInventory(AbortSignal.timeout(20_000))).rejects.toMatchObject({ code: 'AGENT_ERR_ROUTER_AUTH' });
      expect(delays).toEqual([]);
      expect(api.logins).toEqual(['admin:failed']);
    } finally {
      await api.stop();
    }
  });

  it('stops waiting between tries when aborted', async () => {
    const controller = new AbortController();
    const source = createRouterSource({
      settings: routerSettings({ port: await closedPort() }),
      logger: silentLogger,
      vendors: vendors(),
      retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const started = Date.now();
    const reading = source.readInventory(controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

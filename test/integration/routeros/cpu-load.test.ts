import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { routerFromCaptures, startApiSimulator, startSshSimulator } from '../../simulators/index.js';
import { oneTrySource, routerSettings } from './helpers.js';

/** The router's CPU load as the polite scanner reads it, over the API and over SSH, against the simulators on 127.0.155.x. */
const host = '127.0.155.1';
const signal = new AbortController().signal;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the router's CPU load", () => {
  it('is read over the API on one kept session, and follows the simulator', async () => {
    const sim = await startApiSimulator({ host, data: routerFromCaptures() });
    onTestFinished(() => sim.stop());
    const reader = oneTrySource(routerSettings({ host, port: sim.port })).openLoadReader();
    onTestFinished(() => reader.close());
    // The CCR2004 capture says cpu-load 0.
    expect(await reader.read(signal)).toBe(0);
    sim.setCpuLoad(85);
    expect(await reader.read(signal)).toBe(85);
    sim.setCpuLoad(12);
    expect(await reader.read(signal)).toBe(12);
    expect(sim.logins).toEqual(['admin:ok']);
  });

  it('is read over SSH from the console print (the verbatim capture, "cpu-load: 0%")', async () => {
    const sim = await startSshSimulator({ host, data: routerFromCaptures() });
    onTestFinished(() => sim.stop());
    const reader = oneTrySource(routerSettings({ host, port: sim.port, transport: 'ssh' })).openLoadReader();
    onTestFinished(() => reader.close());
    expect(await reader.read(signal)).toBe(0);
    sim.setCpuLoad(91);
    expect(await reader.read(signal)).toBe(91);
    expect(sim.logins).toHaveLength(1);
    expect(sim.commands.filter((command) => command === '/system resource print without-paging')).toHaveLength(2);
  });

  it('goes over SSH when the API port is closed, as the inventory read does', async () => {
    const sim = await startSshSimulator({ host, data: routerFromCaptures() });
    onTestFinished(() => sim.stop());
    sim.setCpuLoad(77);
    const reader = oneTrySource(routerSettings({ host, port: await closedPort(), ssh_fallback: true, ssh_port: sim.port })).openLoadReader();
    onTestFinished(() => reader.close());
    expect(await reader.read(signal)).toBe(77);
    expect(await reader.read(signal)).toBe(77);
    expect(sim.logins).toHaveLength(1);
  });

  it('fails with a typed error when /system/resource is refused, and reads again on a new session once it is not', async () => {
    const sim = await startApiSimulator({ host, data: routerFromCaptures() });
    onTestFinished(() => sim.stop());
    const reader = oneTrySource(routerSettings({ host, port: sim.port })).openLoadReader();
    onTestFinished(() => reader.close());
    sim.setFaults({ trapOn: { '/system/resource': 'not enough permissions (9)' } });
    await expect(reader.read(signal)).rejects.toMatchObject({ code: 'AGENT_ERR_ROUTER_TRAP', message: expect.stringContaining('not enough permissions') });
    sim.setFaults({});
    sim.setCpuLoad(40);
    expect(await reader.read(signal)).toBe(40);
    expect(sim.logins).toEqual(['admin:ok', 'admin:ok']);
  });

  it('opens a fresh session when the kept one died between two reads (the router restarted its API service)', async () => {
    const first = await startApiSimulator({ host, data: routerFromCaptures() });
    const reader = oneTrySource(routerSettings({ host, port: first.port })).openLoadReader();
    onTestFinished(() => reader.close());
    expect(await reader.read(signal)).toBe(0);
    await first.stop();
    const second = await startApiSimulator({ host, port: first.port, data: routerFromCaptures() });
    onTestFinished(() => second.stop());
    second.setCpuLoad(55);
    expect(await reader.read(signal)).toBe(55);
    expect(second.logins).toEqual(['admin:ok']);
  });

  it('refuses a cpu-load that is not a percent', async () => {
    const data = routerFromCaptures();
    data.menus['/system/resource'] = [{ version: '7.4 (stable)', 'cpu-load': 'busy' }];
    const sim = await startApiSimulator({ host, data });
    onTestFinished(() => sim.stop());
    const reader = oneTrySource(routerSettings({ host, port: sim.port })).openLoadReader();
    onTestFinished(() => reader.close());
    await expect(reader.read(signal)).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_PROTOCOL',
      message: expect.stringContaining('no readable cpu-load ("busy")'),
    });
  });
});

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent } from '../../../src/agent/agent.js';
import { loadConfig } from '../../../src/agent/config/load.js';
import { createSdNotifier } from '../../../src/shared/sd-notify.js';
import { tempDir } from '../../helpers/temp.js';
import { startHubSimulator } from './hub-simulator.js';

const siteId = 'b16c9d7a-8e0f-4a2b-8c3d-5e6f708192a3';

describe('the uplink and SIGHUP', () => {
  it('dials the new control plane when a reload changes control_plane, and stops dialing when it is removed', async () => {
    const [oldHub, newHub] = [await startHubSimulator(), await startHubSimulator()];
    onTestFinished(async () => {
      await oldHub.close();
      await newHub.close();
    });
    const dir = tempDir('uplink-reload-');
    const file = path.join(dir, 'config.yaml');
    const write = (url: string | null) =>
      writeFileSync(
        file,
        `config_version: 1\nsite_id: ${siteId}\nsubnets: [127.0.36.0/24]\n${url ? `control_plane:\n  url: ${url}\n  token: token-for-${url.slice(-5)}\n` : ''}`,
      );
    write(oldHub.url);
    const { config } = loadConfig(file, { env: {}, dataDir: path.join(dir, 'state') });
    const logger = pino({ level: 'silent' });
    const agent = createAgent({
      config,
      logger,
      notifier: createSdNotifier({ env: {}, logger }),
      dataDir: path.join(dir, 'state'),
      uplink: { backoff: { initialMs: 50, maxMs: 200, factor: 2 } },
    });
    onTestFinished(async () => {
      await agent.stop();
    });
    await agent.start();
    await oldHub.waitFor('the hello to the first control plane', () => oldHub.connections[0]?.frames[0]?.type === 'hello');

    write(newHub.url);
    expect(agent.reload()).toMatchObject({ applied: true, restartRequired: [] });
    await newHub.waitFor('the hello to the new control plane', () => newHub.connections[0]?.frames[0]?.type === 'hello');
    expect(newHub.connections[0]!.headers.authorization).toBe(`Bearer token-for-${newHub.url.slice(-5)}`);
    await oldHub.waitFor('the old connection to close', () => oldHub.connections[0]!.closed !== undefined);
    expect(oldHub.connections[0]!.closed?.code).toBe(1001);

    write(null);
    expect(agent.reload()).toMatchObject({ applied: true });
    await newHub.waitFor('the connection to close', () => newHub.connections[0]!.closed !== undefined);
    expect(agent.uplink).toBeUndefined();
    expect(newHub.connections).toHaveLength(1);
  });
});

/**
 * The hub's rule on the embedded store: a command goes out once per connection even when the
 * hello's replay read ends after a wake-up's read already sent the same commands (the replay read
 * is held back on purpose; everything else is real: SQLite, the hub, a WebSocket agent).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Hub } from '../../../src/control-plane/hub/hub.js';
import { generateSiteToken, hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore } from '../../../src/control-plane/store/types.js';
import { dispatchUpgrades } from '../../../src/control-plane/upgrades.js';
import { AGENT_PATH, isCommand } from '../../../src/protocol/index.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { tempDir } from '../../helpers/temp.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const stop = (siteId: string, n: number) => ({
  siteId,
  type: 'scan.stop' as const,
  body: { schedule_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, scan_id: null },
});

describe("the hub's never-twice rule (SQLite)", () => {
  it("sends nothing twice when the hello's replay read ends after a wake-up's read", async () => {
    const real = openSqliteStore({ stateDir: tempDir('never-twice-'), logger, ingestThread: false });
    cleanup.push(() => real.close());
    let openGate = () => undefined as void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const store: ControlPlaneStore = {
      ...real,
      commands: {
        ...real.commands,
        async pending(...args) {
          await gate;
          return real.commands.pending(...args);
        },
      },
    };
    const hub = new Hub({
      store,
      clock: { now: () => new Date() },
      logger,
      options: { maxFrameBytes: 1 << 20, helloTimeoutMs: 5000, heartbeatIntervalMs: 5000, deadAfterMs: 30_000, serverVersion: 'test' },
      onFinishedScans: () => undefined,
    });
    const server = createServer((_request, response) => response.writeHead(404).end());
    dispatchUpgrades(server, { [AGENT_PATH]: hub.upgrade });
    hub.start();
    await new Promise<void>((resolve) => server.listen(0, process.env.TEST_LISTEN_HOST ?? '127.0.0.1', resolve));
    cleanup.push(async () => {
      await hub.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const token = generateSiteToken();
    const site = crypto.randomUUID();
    const at = new Date().toISOString();
    await real.sites.create({
      id: site,
      org_id: 'org-a',
      name: 's',
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: hashSiteToken(token),
    });
    await hub.commands([stop(site, 1), stop(site, 2)]);
    const agent = new SimulatedAgent({
      url: `http://${(server.address() as AddressInfo).address}:${(server.address() as AddressInfo).port}`,
      token,
      siteId: site,
      ackCommands: false,
    });
    cleanup.push(() => agent.drop());
    const seqs = () => agent.frames.filter(isCommand).map((c) => c.seq);
    await agent.connect();
    // The replay read waits; a wake-up's read sends 1..3.
    await hub.commands([stop(site, 3)]);
    await agent.waitFor(() => seqs().length === 3);
    openGate();
    // The replay now answers 1..3 again; a fourth command after it marks the end.
    await hub.commands([stop(site, 4)]);
    await agent.waitFor(() => seqs().includes(4));
    expect(seqs()).toEqual([1, 2, 3, 4]);
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UplinkClient } from '../../../src/agent/uplink/uplink-client.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/index.js';
import { captureLogger } from '../../helpers/logger.js';
import { startHarness } from '../control-plane/harness.js';

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('an agent the control plane refuses at hello learns why', () => {
  it('logs the site mismatch once, naming both ids and what to check, and keeps dialing at the longest backoff', async () => {
    const harness = await startHarness();
    onTestFinished(() => harness.stop());
    const site = await harness.addSite();
    const wrongSiteId = randomUUID();
    const captured = captureLogger();
    const uplink = new UplinkClient({
      url: harness.url,
      token: site.token,
      logger: captured.logger,
      backoff: { initialMs: 5, maxMs: 40, factor: 2 },
      hello: () => ({
        protocol: PROTOCOL_VERSION,
        agent_version: 'test',
        site_id: wrongSiteId,
        stream_id: randomUUID(),
        last_acked_seq: 0,
        last_command_seq: 0,
      }),
      onSession: () => undefined,
      onFrame: () => undefined,
      onDisconnected: () => undefined,
    });
    onTestFinished(() => uplink.stop());
    uplink.start();
    await until(() => uplink.waits.length >= 3, 'three refused dials');
    await uplink.stop();

    const refusals = captured.lines().filter((line) => String(line.msg).startsWith('the control plane refused this agent'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 50, code: 'site_mismatch' });
    expect(refusals[0]?.msg).toContain(`the hello names site ${wrongSiteId}, but the token was issued for site ${site.id}`);
    expect(refusals[0]?.msg).toContain('site_id in the agent config');
    expect(captured.messages().some((msg) => msg.includes('before welcome'))).toBe(false);
    // After a refusal the waits are the cap's (drawn from its upper half), not the first ones.
    expect(uplink.waits.every((wait) => wait >= 20)).toBe(true);
  });
});

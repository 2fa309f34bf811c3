import { describe, expect, it, onTestFinished } from 'vitest';
import { MAX_FRAME_BYTES } from '../../../src/protocol/index.js';
import { startHubSimulator } from './hub-simulator.js';
import { startSiteAgent } from './site.js';

const siteId = '7d2e5f3c-4a6b-4c8d-8e0f-1a2b3c4d5e6f';
const scheduleId = '8e3f6a4d-5b7c-4d9e-9f1a-2b3c4d5e6f70';

const upsert = (seq: number) =>
  JSON.stringify({
    type: 'schedule.upsert',
    seq,
    issued_at: new Date().toISOString(),
    schedule: {
      id: scheduleId,
      description: 'pushed',
      day_of_week: 1,
      time_of_day: '03:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      ignore_offline_sites: false,
      notification_group: 'ops',
      sites: [{ id: siteId, subnet: '127.0.34.0/24' }],
      anchor_at: '2026-11-02T00:00:00.000Z',
      updated_at: new Date().toISOString(),
    },
  });

describe('the agent against a control plane that sends garbage', () => {
  it('answers each bad frame with a protocol error and a close, dials again, and still applies a good command afterwards', async () => {
    const hub = await startHubSimulator();
    onTestFinished(() => hub.close());
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, net: 34 });
    const garbage: { data: string | Buffer; binary?: boolean; code: string | null; close: number }[] = [
      { data: 'this is not json', code: 'malformed_frame', close: 1007 },
      { data: JSON.stringify({ type: 'self.destruct', seq: 1 }), code: 'unknown_type', close: 1008 },
      { data: JSON.stringify({ type: 'schedule.upsert', seq: 1, issued_at: 'yesterday' }), code: 'malformed_frame', close: 1007 },
      { data: Buffer.from([0xde, 0xad, 0xbe, 0xef]), binary: true, code: 'malformed_frame', close: 1007 },
      { data: JSON.stringify({ type: 'welcome', protocol: 1 }), code: 'malformed_frame', close: 1007 },
      // Larger than the frame limit: the socket is closed by the WebSocket layer before any parsing.
      { data: `"${'x'.repeat(MAX_FRAME_BYTES + 16)}"`, code: null, close: 1009 },
    ];
    for (const [index, bad] of garbage.entries()) {
      await hub.waitFor(`connection ${index}`, () => hub.connections[index]?.frames[0]?.type === 'hello');
      // No need to wait for the welcome to land: it went first on the same ordered stream.
      const connection = hub.connections[index]!;
      connection.send(bad.data, bad.binary);
      await hub.waitFor(`the close of connection ${index}`, () => connection.closed !== undefined);
      expect(connection.closed?.code, `frame ${index}`).toBe(bad.close);
      const errors = connection.frames.filter((frame) => frame.type === 'error');
      if (bad.code === null) expect(errors).toEqual([]);
      else expect(errors).toMatchObject([{ code: bad.code, fatal: true }]);
    }
    const last = garbage.length;
    await hub.waitFor('the connection after the garbage', () => hub.connections[last]?.frames[0]?.type === 'hello');
    hub.connections[last]!.send(upsert(1));
    await hub.waitFor('the ack of the command', () => hub.connections[last]!.frames.some((frame) => frame.type === 'ack' && frame.seq === 1));
    expect(agent.query<{ origin: string }>('SELECT origin FROM schedules WHERE id = ?', scheduleId)).toEqual([{ origin: 'control_plane' }]);
    // The next hello says the command was applied, so a control plane never sends it twice.
    hub.connections[last]!.terminate();
    await hub.waitFor('one more hello', () => hub.connections[last + 1]?.frames[0]?.type === 'hello');
    expect(hub.connections[last + 1]!.frames[0]).toMatchObject({ type: 'hello', site_id: siteId, last_command_seq: 1 });
  });
});

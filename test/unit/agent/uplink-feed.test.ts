import { describe, expect, it } from 'vitest';
import { withFeed } from '../../../src/agent/uplink/uplink.js';
import { decodeUpFrame } from '../../../src/protocol/index.js';

describe('the feed version in hello and heartbeats', () => {
  it('is sent as held, or without its dates when they break the bounds, so a hello never becomes malformed', () => {
    const at = '2026-12-01T00:00:00.000Z';
    expect(withFeed(undefined)).toEqual({});
    expect(withFeed({ version: 2, data_as_of: { nvd: at } })).toEqual({ feed: { version: 2, data_as_of: { nvd: at } } });
    const odd = { version: 5, data_as_of: { nvd: 'x'.repeat(200) } };
    expect(withFeed(odd)).toEqual({ feed: { version: 5, data_as_of: {} } });
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, ...withFeed(odd) })).ok).toBe(true);
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, feed: odd })).ok).toBe(false);
  });
});

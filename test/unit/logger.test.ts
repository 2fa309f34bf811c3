import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/agent/config/load.js';
import { createLogger } from '../../src/shared/logger.js';

function memoryStream() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

describe('the agent logger', () => {
  it('redacts the router password and the control-plane token wherever a config is logged', () => {
    const { config } = buildConfig(
      { router: { host: '127.0.0.1', user: 'u', password: 'router-pw-123' }, control_plane: { url: 'ws://127.0.0.1:1/agents', token: 'cp-token-456' } },
      undefined,
      { env: {} },
    );
    const memory = memoryStream();
    const logger = createLogger('cve-agent', 'info', memory.stream);
    logger.info({ config }, 'config loaded');
    logger.child({ component: 'routeros' }).info({ router: config.router }, 'connecting');
    logger.info({ headers: { authorization: 'Bearer cp-token-456' } }, 'dialing');
    const out = memory.text();
    expect(out).not.toContain('router-pw-123');
    expect(out).not.toContain('cp-token-456');
    type Line = {
      config: { router: { password: string }; control_plane: { token: string } };
      router: { password: string; host: string };
      headers: { authorization: string };
    };
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    expect(lines[0]?.config.router.password).toBe('[Redacted]');
    expect(lines[0]?.config.control_plane.token).toBe('[Redacted]');
    expect(lines[1]?.router.password).toBe('[Redacted]');
    expect(lines[1]?.router.host).toBe('127.0.0.1');
    expect(lines[2]?.headers.authorization).toBe('[Redacted]');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfig } from '../../../src/agent/config/load.js';
import type { AgentError } from '../../../src/agent/errors.js';

const base = {
  site_id: '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90',
  subnets: ['192.168.88.0/24'],
  router: { host: '192.168.88.1', user: 'edge-cve', password: 'x' },
};
const watchOf = (watch: unknown, extra: Record<string, unknown> = base) =>
  buildConfig({ ...extra, watch }, '/etc/cve-agent/config.yaml', { env: {} }).config.watch;

function errorsOf(watch: unknown, extra: Record<string, unknown> = base): string[] {
  try {
    watchOf(watch, extra);
  } catch (error) {
    expect((error as AgentError).code).toBe('AGENT_ERR_CONFIG_INVALID');
    return [...(error as AgentError).details];
  }
  throw new Error('expected the config to be refused');
}

describe('the watch section', () => {
  it('is off by default, with a 5 s debounce, 10 micro-scans a minute, SSH polls every 30 s', () => {
    expect(watchOf(undefined)).toEqual({
      enabled: false,
      debounce: 5000,
      max_scans_per_minute: 10,
      poll_interval: 30_000,
      version_poll: 60_000,
      min_cvss: 0,
      warning_threshold: 7,
    });
  });

  it('refuses a debounce that would break the 30 s promise, thresholds out of order, and a watch without a router', () => {
    expect(errorsOf({ debounce: '40s' })).toEqual([expect.stringMatching(/^watch\.debounce: expected at most 25s/)]);
    expect(errorsOf({ min_cvss: 7, warning_threshold: 4 })).toEqual([expect.stringMatching(/^watch\.warning_threshold: must be greater than min_cvss \(7\)/)]);
    expect(errorsOf({ enabled: true }, { site_id: base.site_id, subnets: base.subnets })).toEqual([
      "watch.enabled: true needs a router block (the watch follows the router's tables)",
    ]);
  });

  it('config.example.yaml: the commented watch example is the defaults once uncommented', () => {
    const lines = readFileSync(new URL('../../../config.example.yaml', import.meta.url), 'utf8').split('\n');
    const start = lines.indexOf('# watch:');
    const block = ['watch:'];
    for (const line of lines.slice(start + 1)) {
      if (!line.startsWith('#   ')) break;
      block.push(line.slice(2));
    }
    expect(watchOf((parse(block.join('\n')) as { watch: unknown }).watch)).toEqual(watchOf(undefined));
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const unit = fileURLToPath(new URL('../../systemd/cve-agent.service', import.meta.url));

describe('systemd/cve-agent.service', () => {
  it('has an exposure score under 2.0 in systemd-analyze security', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const match = /Overall exposure level for cve-agent\.service: (\d+\.\d+)/.exec(out);
    expect(match, out).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThan(2.0);
  });

  it('is a notify unit with a watchdog, a dedicated user, state and config directories', () => {
    const out = readFileSync(unit, 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=main',
      'WatchdogSec=30s',
      // Room for a cve.db schema upgrade before READY=1.
      'TimeoutStartSec=10min',
      'Restart=on-failure',
      'User=cve-agent',
      'StateDirectory=cve-agent',
      'ConfigurationDirectory=cve-agent',
      'CapabilityBoundingSet=',
    ]) {
      expect(out.split('\n')).toContain(line);
    }
  });
});

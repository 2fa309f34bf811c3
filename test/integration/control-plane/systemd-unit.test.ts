import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitCodes } from '../../../src/shared/exit-codes.js';

const unit = fileURLToPath(new URL('../../../systemd/cve-control-plane.service', import.meta.url));

describe('systemd/cve-control-plane.service', () => {
  it('has an exposure score under 2.0 in systemd-analyze security', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const match = /Overall exposure level for cve-control-plane\.service: (\d+\.\d+)/.exec(out);
    expect(match, out).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThan(2.0);
  });

  it('runs serve as a notify unit with a watchdog, as its own user with state and config directories, enough descriptors for 2,000 agents, and no restart loop on config errors', () => {
    const lines = readFileSync(unit, 'utf8').split('\n');
    for (const line of [
      'ExecStart=/usr/bin/cve-control-plane serve --config /etc/cve-control-plane/config.yaml',
      'User=cve-control-plane',
      'StateDirectory=cve-control-plane',
      'ConfigurationDirectory=cve-control-plane',
      'LimitNOFILE=65536',
      'CapabilityBoundingSet=',
      // sd_notify from the node process itself (src/shared/sd-notify.ts), like the agent's unit.
      'Type=notify',
      'NotifyAccess=main',
      'WatchdogSec=30s',
      'TimeoutStartSec=10min',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines).toContain(`RestartPreventExitStatus=${exitCodes.usage} ${exitCodes.config}`);
  });
});

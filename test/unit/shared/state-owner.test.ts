import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runAsCommand } from '../../../src/shared/state-owner.js';

describe('runAsCommand: the command a refusal prints', () => {
  it('leaves plain words alone', () => {
    expect(runAsCommand('cve-agent', 'cve-agent', ['--data-dir', '/var/lib/cve-agent', 'feed', 'import', 'nvd/2024.json.gz'])).toBe(
      'runuser -u cve-agent -- cve-agent --data-dir /var/lib/cve-agent feed import nvd/2024.json.gz',
    );
  });

  it('quotes so that a shell gives back each argument as it was', () => {
    const args = ['--description', "the admin's weekly scan", 'a b', '$HOME', '*', '', 'semi;colon'];
    const line = runAsCommand('cve-agent', 'cve-agent', args);
    // The shell splits the printed line; printf shows the words it made.
    const words = spawnSync('bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' })
      .stdout.split('\0')
      .slice(0, -1);
    expect(words).toEqual(['runuser', '-u', 'cve-agent', '--', 'cve-agent', ...args]);
  });
});

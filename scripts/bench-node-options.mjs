// The node options the agent's systemd unit gives the daemon (Environment=NODE_OPTIONS=...), so
// that bench:idle and bench:router measure the daemon the way it runs in production.
import { readFileSync } from 'node:fs';

export function unitNodeOptions(unitFile = new URL('../systemd/cve-agent.service', import.meta.url)) {
  const line = readFileSync(unitFile, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('Environment=NODE_OPTIONS='));
  return line === undefined ? [] : line.slice('Environment=NODE_OPTIONS='.length).trim().split(/\s+/);
}

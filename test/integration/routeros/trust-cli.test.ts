import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.js';
import { startApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator } from '../../simulators/routeros-ssh/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { runAgentCli } from './helpers.js';
import { certificate, sshHostKey } from './identity-keys.js';

const data = routerFromCaptures();

function configFile(router: Record<string, unknown>): { args: string[]; dataDir: string } {
  const dir = tempDir('router-trust-');
  const lines = Object.entries(router).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `router:\n${lines.join('\n')}\nsubnets: [192.168.56.0/24]\n`, { mode: 0o600 });
  const dataDir = path.join(dir, 'state');
  return { args: ['--config', file, '--data-dir', dataDir], dataDir };
}

function storedPins(dataDir: string): { port: number; transport: string; fingerprint: string }[] {
  const db = new Database(path.join(dataDir, 'agent.db'), { readonly: true });
  try {
    return db.prepare('SELECT port, transport, fingerprint FROM router_pins ORDER BY transport').all() as {
      port: number;
      transport: string;
      fingerprint: string;
    }[];
  } finally {
    db.close();
  }
}

describe('cve-agent router trust', () => {
  it('over SSH: check learns the key, a re-key is refused with exit 77 naming both fingerprints, trust --yes accepts it and check works again', async () => {
    const first = sshHostKey();
    const second = sshHostKey();
    const sim = await startSshSimulator({ data, hostKey: first.privateKey });
    try {
      const { args, dataDir } = configFile({ host: '127.0.0.1', transport: 'ssh', port: sim.port, user: 'admin', password: 'secret' });
      const learned = await runAgentCli([...args, 'router', 'check']);
      expect(learned.code).toBe(0);
      // The first use is a warning naming the fingerprint.
      expect(learned.stderr).toBe(`warning: router 127.0.0.1:${sim.port} (ssh): first use, pinned ${first.fingerprint}\n`);
      expect(storedPins(dataDir)).toEqual([{ port: sim.port, transport: 'ssh', fingerprint: first.fingerprint }]);

      sim.setHostKey(second.privateKey);
      sim.authAttempts.length = 0;
      const refused = await runAgentCli([...args, 'router', 'check']);
      expect(refused.code).toBe(77);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^cve-agent: router 127\\.0\\.0\\.1:${sim.port} \\(ssh\\): presented SSH host key ${escape(second.fingerprint)}, but ${escape(first.fingerprint)} is pinned \\(learned [^)]+\\); if the router was re-keyed on purpose run \`cve-agent router trust\`\\n$`,
        ),
      );
      expect(sim.authAttempts).toEqual([]);

      // Without --yes: shows both, changes nothing, logs in nowhere.
      const shown = await runAgentCli([...args, 'router', 'trust']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(
        `router 127.0.0.1:${sim.port} (ssh) SSH host key\n  presented   ${second.fingerprint}\n  stored      ${first.fingerprint} (pinned `,
      );
      expect(shown.stdout).toContain('run `cve-agent router trust --yes` to pin the presented one');
      expect(storedPins(dataDir)[0]?.fingerprint).toBe(first.fingerprint);
      expect(sim.authAttempts).toEqual([]);

      const accepted = await runAgentCli([...args, 'router', 'trust', '--yes']);
      expect(accepted.code).toBe(0);
      expect(accepted.stdout).toContain(`  pinned      ${second.fingerprint} (stored in agent.db)`);
      expect(storedPins(dataDir)).toEqual([{ port: sim.port, transport: 'ssh', fingerprint: second.fingerprint }]);
      expect(sim.authAttempts).toEqual([]);

      const again = await runAgentCli([...args, 'router', 'check']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`router 127.0.0.1:${sim.port} (ssh): ok`);
    } finally {
      await sim.stop();
    }
  });

  it('over API-SSL with the SSH fallback: a re-keyed certificate is refused, trust --yes pins both endpoints and the next read works', async () => {
    const first = certificate();
    const second = certificate();
    const hostKey = sshHostKey();
    const api = await startApiSimulator({ data, tls: { key: first.key, cert: first.cert } });
    const ssh = await startSshSimulator({ data, hostKey: hostKey.privateKey });
    try {
      const { args, dataDir } = configFile({
        host: '127.0.0.1',
        transport: 'api-ssl',
        port: api.port,
        user: 'admin',
        password: 'secret',
        ssh_fallback: true,
        ssh_port: ssh.port,
      });
      expect((await runAgentCli([...args, 'router', 'check'])).code).toBe(0);
      expect(storedPins(dataDir)).toEqual([{ port: api.port, transport: 'api-ssl', fingerprint: first.fingerprint }]);

      api.setCertificate(second);
      const before = api.received.length;
      const refused = await runAgentCli([...args, 'router', 'inventory']);
      expect(refused.code).toBe(77);
      expect(refused.stderr).toContain(`presented TLS certificate ${second.fingerprint}, but ${first.fingerprint} is pinned`);
      expect(api.received.length).toBe(before);

      const accepted = await runAgentCli([...args, '--json', 'router', 'trust', '--yes']);
      expect(accepted.code).toBe(0);
      expect(JSON.parse(accepted.stdout)).toEqual([
        expect.objectContaining({
          transport: 'api-ssl',
          port: api.port,
          presented: second.fingerprint,
          stored: expect.objectContaining({ fingerprint: second.fingerprint }),
        }),
        expect.objectContaining({
          transport: 'ssh',
          port: ssh.port,
          presented: hostKey.fingerprint,
          stored: expect.objectContaining({ fingerprint: hostKey.fingerprint }),
        }),
      ]);
      expect(ssh.authAttempts).toEqual([]);

      const again = await runAgentCli([...args, 'router', 'check']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`router 127.0.0.1:${api.port} (api-ssl): ok`);
    } finally {
      await api.stop();
      await ssh.stop();
    }
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

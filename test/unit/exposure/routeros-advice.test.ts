import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceChannel, routerOsPlan } from '../../../src/cve/advice.js';
import { newestRouterOsRelease } from '../../../src/cve/intel.js';
import { cveMigrations } from '../../../src/cve/migrations.js';
import { openSqlite } from '../../../src/shared/sqlite.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

function releases() {
  const { logger } = captureLogger();
  const db = openSqlite({ file: path.join(tempDir(), 'cve.db'), logger, migrations: cveMigrations });
  const insert = db.prepare("INSERT INTO routeros_releases (channel, version, released, checked_at) VALUES (?, ?, NULL, '2026-12-01T00:00:00Z')");
  insert.run('long-term', '6.49.18');
  insert.run('stable', '7.20.6');
  return db;
}

const winbox = { kind: 'router-service' as const, detail: 'router service winbox (tcp/8291) open to WAN: no address restriction, accepted by input rule *4' };

describe('RouterOS advice', () => {
  it("names the newest release on the device's own channel and the exact commands, RouterBOOT step included", () => {
    const db = releases();
    const channel = deviceChannel('long-term', '6.48.6');
    const plan = routerOsPlan({
      version: '6.48.6',
      channel,
      newest: newestRouterOsRelease(db, channel.channel),
      fixed: '6.49.7',
      exposure: [winbox],
      lan: '192.168.88.0/24',
    });
    expect(plan.summary).toBe('Install RouterOS 6.49.18, the newest long-term release (channel as the router reports); fixed in 6.49.7.');
    expect(plan.commands).toEqual([
      '/system package update set channel=long-term',
      '/system package update check-for-updates',
      '/system package update install',
      '/system routerboard upgrade',
      '/system reboot',
    ]);
  });

  it('infers the channel from the version when the router did not print it, and says so', () => {
    expect(deviceChannel(undefined, '6.48.6')).toEqual({ channel: 'long-term', source: 'inferred' });
    expect(deviceChannel(undefined, '7.16rc2')).toEqual({ channel: 'testing', source: 'inferred' });
    expect(deviceChannel(undefined, '7.15.3')).toEqual({ channel: 'stable', source: 'inferred' });
    const plan = routerOsPlan({
      version: '7.15.3',
      channel: deviceChannel(undefined, '7.15.3'),
      newest: '7.20.6',
      fixed: null,
      exposure: [],
      lan: '192.168.88.0/24',
    });
    expect(plan.summary).toContain('newest stable release (channel inferred from 7.15.3)');
  });

  it('when no release fixes it yet, gives the service, UPnP and NAT changes that remove the exposure', () => {
    const plan = routerOsPlan({
      version: '7.20.6',
      channel: deviceChannel('stable', '7.20.6'),
      newest: '7.20.6',
      fixed: null,
      exposure: [
        winbox,
        { kind: 'router-service', detail: 'router service telnet (tcp/23) open to WAN: no address restriction, no input rule drops it' },
        { kind: 'upnp', detail: 'UPnP enabled on the router: any LAN host may open WAN ports' },
        { kind: 'dstnat', detail: 'forwarded from WAN tcp/2222 by dstnat rule *2' },
      ],
      lan: '192.168.88.0/24',
    });
    expect(plan.summary).toBe(
      'No RouterOS fix: the newest stable release (7.20.6) does not fix it yet (channel as the router reports); remove the exposure meanwhile.',
    );
    expect(plan.commands).toEqual([
      '/ip service set winbox address=192.168.88.0/24',
      '/ip service disable telnet',
      '/ip upnp set enabled=no',
      '/ip firewall nat disable *2',
    ]);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/temp.js';
import { mndpReply, tcpServer, udpServer } from './servers.js';

// This file's peers live on 127.0.19.0/30; port 47019 is in no default list.
const SUBNET = '127.0.19.0/30';
const HOST = '127.0.19.1';
const PORT = 47019;
const siteId = '4d2b1c0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d';
const scheduleId = '1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';

interface Report {
  hosts: { ip: string; services: { port: number | null; protocol: string | null }[] }[];
}

/** Runs the built CLI without blocking this process, whose event loop serves the peers. */
async function scanSchedule(scan: Record<string, unknown>, flags: string[]): Promise<Report> {
  const dir = tempDir();
  const config = path.join(dir, 'config.yaml');
  const schedule = { id: scheduleId, description: 'settings', day_of_week: 0, time_of_day: '02:30', every_n_weeks: 2, min_cvss: 0, warning_threshold: 7 };
  writeFileSync(config, JSON.stringify({ site_id: siteId, subnets: [SUBNET], scan, schedules: [schedule] }));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [agentCli, '--config', config, '--data-dir', path.join(dir, 'state'), '--json', 'scan', '--schedule', scheduleId, ...flags],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout) as Report;
}

const servicesOn = (report: Report) =>
  report.hosts.filter((host) => host.ip === HOST).flatMap((host) => host.services.map((service) => `${service.protocol}/${service.port}`));

describe('cve-agent scan --schedule uses the site config, and a flag overrides it only when given', () => {
  it('takes scan.ports and scan.udp from the config; --ports and --no-udp override them when given', async () => {
    await tcpServer(HOST, PORT, (socket) => socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n'));
    await udpServer(HOST, 5678, () => mndpReply());
    // The config's port list and udp: false apply without any flag (they were overridden by the flags' defaults).
    expect(servicesOn(await scanSchedule({ ports: String(PORT), udp: false }, []))).toEqual([`tcp/${PORT}`]);
    // udp: true in the config is kept when --no-udp is not given; --ports overrides the list.
    expect(servicesOn(await scanSchedule({ ports: '22', udp: true }, ['--ports', String(PORT)])).sort()).toEqual([`tcp/${PORT}`, 'udp/5678']);
    // --no-udp given overrides the config's udp: true.
    expect(servicesOn(await scanSchedule({ ports: String(PORT), udp: true }, ['--no-udp']))).toEqual([`tcp/${PORT}`]);
  });
});

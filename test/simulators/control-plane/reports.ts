/** Builders for the reports of one simulated run, each valid against the protocol schemas. */
import { randomUUID } from 'node:crypto';
import type { Coverage } from '../../../src/shared/report/coverage.js';
import type { ReportInput } from './simulated-agent.js';

const now = () => new Date().toISOString();

export interface RunTarget {
  runId?: string;
  scheduleId?: string | null;
  slotAt?: string | null;
  scanId?: string | null;
  subScanId?: string | null;
  subnets?: string[];
  targetIps?: string[] | null;
  /** A local run no schedule made: the router watch or a re-match. */
  origin?: { origin: 'watch' | 're-match'; trigger: string };
}

export function scanStatus(target: RunTarget & { runId: string }, status: 'queued' | 'scanning' | 'stopping' = 'scanning'): ReportInput {
  return {
    type: 'scan.status',
    at: now(),
    run_id: target.runId,
    status,
    schedule_id: target.scheduleId ?? null,
    slot_at: target.slotAt ?? null,
    scan_id: target.scanId ?? null,
    sub_scan_id: target.subScanId ?? null,
    subnets: target.subnets ?? ['192.168.88.0/24'],
    target_ips: target.targetIps ?? null,
    min_cvss: 4,
    warning_threshold: 7,
    ...target.origin,
  };
}

export function host(runId: string, ip: string, mac: string, ports: number[] = [22, 8291]): ReportInput {
  return {
    type: 'host',
    at: now(),
    run_id: runId,
    ip,
    mac,
    hostname: `host-${ip.split('.').at(-1)}`,
    manufacturer: 'Routerboard.com',
    sources: ['arp', 'sweep'],
    os: null,
    open_ports: ports.map((port) => ({
      port,
      protocol: 'tcp' as const,
      service: port === 22 ? 'ssh' : 'winbox',
      product: port === 22 ? 'OpenSSH' : 'MikroTik RouterOS',
      version: port === 22 ? '7.4' : '6.40.5',
      cpe: null,
    })),
  };
}

export function finding(runId: string, ip: string, mac: string, cveId = 'CVE-2018-14847', score = 9.1, version = '6.40.5'): ReportInput {
  return {
    type: 'finding',
    at: now(),
    run_id: runId,
    ip,
    mac,
    port: 8291,
    protocol: 'tcp',
    service: 'winbox',
    cpe: `cpe:2.3:o:mikrotik:routeros:${version}:*:*:*:*:*:*:*`,
    product: 'routeros',
    version,
    confidence: 'high',
    evidence: `neighbor table: version=${version}`,
    cve: {
      id: cveId,
      description: 'MikroTik RouterOS through 6.42 allows unauthenticated remote attackers to read arbitrary files via Winbox.',
      published_at: '2018-08-02T07:29:00.000Z',
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
      score,
      severity: score >= 9 ? 'CRITICAL' : score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW',
      compliance_tags: ['PCI-DSS'],
      references: [{ url: 'https://blog.mikrotik.com/security/winbox-vulnerability.html', tags: ['Vendor Advisory'] }],
      fixed_versions: ['6.42.1', '6.40.8'],
      advice: null,
    },
  };
}

export function finished(
  runId: string,
  findingsSent: number,
  status: 'completed' | 'failed' | 'stopped' = 'completed',
  hostsScanned = 1,
  coverage?: Coverage,
): ReportInput {
  return {
    type: 'scan.finished',
    at: now(),
    run_id: runId,
    status,
    error: status === 'failed' ? 'router unreachable' : null,
    hosts_scanned: hostsScanned,
    findings_sent: findingsSent,
    ...(coverage ? { coverage } : {}),
  };
}

/** A coverage statement as an agent sends it: one silent host, one service without a version, a neighbor not judged, stale CVE data. */
export function sampleCoverage(): Coverage {
  return {
    addresses: { in_scope: 254, answered: 12 },
    router_known_silent: { count: 1, hosts: [{ ip: '192.168.88.30', mac: '4C:5E:0C:00:00:30', hostname: 'printer' }] },
    alive_without_open_port: { count: 2, hosts: ['192.168.88.40', '192.168.88.41'] },
    services_unversioned: {
      count: 1,
      services: [{ ip: '192.168.88.20', port: 8080, protocol: 'tcp', service: 'http', product: null, version: null }],
    },
    probes_cut: { count: 1, probes: [{ ip: '192.168.88.50', port: 23, protocol: 'tcp', reason: "probes cut at the port's 8000 ms deadline" }] },
    router: { state: 'read', judged: true, reason: null },
    devices: [
      { role: 'router', ip: '10.255.0.1', identity: 'gw', mac: null, version: '6.40.5 (stable)', judged: true, reason: null },
      {
        role: 'neighbor',
        ip: '192.168.88.9',
        identity: 'ap-old',
        mac: '48:A9:8A:0A:0B:0C',
        version: null,
        judged: false,
        reason: 'the router reported no RouterOS version for it',
      },
    ],
    cve_data: { cves: 1200, newest_record: '2026-01-01T00:00:00.000Z', data_as_of: null, age_days: 40, stale: true },
    warnings: ['neighbor ap-old not judged: the router reported no RouterOS version for it', 'the CVE data is 40 day(s) old'],
  };
}

export const newRunId = (): string => randomUUID();

/** A MAC from a number: 4C:5E:0C:00:01:02 for 258. */
export const macOf = (n: number): string =>
  `4C:5E:0C:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;

/** The router inventory a run reports: its router and its MikroTik neighbors (hosts left empty). */
export function inventory(
  runId: string,
  router: { identity: string; routeros_version: string; board: string | null },
  neighbors: { mac: string; ip: string | null; identity: string | null; platform: string | null; version: string | null }[] = [],
): ReportInput {
  return { type: 'inventory', at: now(), run_id: runId, router: { ...router, serial: null }, hosts: [], neighbors };
}

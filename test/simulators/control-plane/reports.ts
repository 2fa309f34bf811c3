/** Builders for the reports of one simulated run, each valid against the protocol schemas. */
import { randomUUID } from 'node:crypto';
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

export function finished(runId: string, findingsSent: number, status: 'completed' | 'failed' | 'stopped' = 'completed', hostsScanned = 1): ReportInput {
  return {
    type: 'scan.finished',
    at: now(),
    run_id: runId,
    status,
    error: status === 'failed' ? 'router unreachable' : null,
    hosts_scanned: hostsScanned,
    findings_sent: findingsSent,
  };
}

export const newRunId = (): string => randomUUID();

/** A MAC from a number: 4C:5E:0C:00:01:02 for 258. */
export const macOf = (n: number): string =>
  `4C:5E:0C:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;

/**
 * A small control-plane history written as rows, for comparing the engines' read queries: two
 * organizations, scans of one schedule (finished, unfinished, two created in the same millisecond),
 * devices seen again and again, a device without a MAC at the same address on two sites, CVEs known
 * to one organization only, findings with and without their fix-first facts, inventories, marks
 * made in the same millisecond, deliveries and alerts.
 */
import { uuidv7 } from '../../../src/control-plane/store/uuidv7.js';
import type { Row, Seed } from './two-engines.js';

export const T = (minute: number): string => new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString();

const scan = (id: string, over: Row): Row => ({
  id,
  org_id: 'o1',
  schedule_id: 'sch1',
  kind: 'scheduled',
  label: `scan ${id}`,
  min_cvss: 4,
  warning_threshold: 7.5,
  ignore_offline_sites: false,
  notification_group: 'ops',
  status: 'completed',
  stop_requested: false,
  cve_count: 2,
  score_sum: 16.6,
  highest_score: 9.1,
  warning_count: 1,
  notify_state: 'none',
  ...over,
});

const sub = (id: string, scanId: string, siteId: string, status: string, created: string, coverage: string | null = null): Row => ({
  id,
  scan_id: scanId,
  site_id: siteId,
  subnets: '["192.168.88.0/24"]',
  status,
  created_at: created,
  coverage,
});

const host = (id: string, subId: string, scanId: string, siteId: string, ip: string, mac: string | null, created: string): Row => ({
  id,
  scan_id: scanId,
  sub_scan_id: subId,
  site_id: siteId,
  ip,
  mac,
  hostname: mac === null ? null : `host-${id}`,
  manufacturer: mac === null ? null : 'MikroTik',
  os: null,
  sources: '["arp","dhcp"]',
  open_ports: '[{"port":22,"protocol":"tcp","service":"ssh"}]',
  cve_count: 1,
  created_at: created,
});

/** A coverage statement as a run reports it (shared/report/coverage.ts), as stored: JSON. */
export const coverage = (answered: number): string =>
  JSON.stringify({
    addresses: { in_scope: 254, answered },
    router_known_silent: { count: 1, hosts: [{ ip: '10.0.0.7', mac: null, hostname: null }] },
    alive_without_open_port: { count: 0, hosts: [] },
    services_unversioned: { count: 0, services: [] },
    probes_cut: { count: 0, probes: [] },
    router: { state: 'read', judged: true, reason: null },
    devices: [{ role: 'router', ip: '10.0.0.1', identity: 'gw', mac: null, version: '6.40.1', judged: true, reason: null }],
    cve_data: null,
    warnings: [],
  });

let clock = Date.UTC(2026, 0, 5, 9, 0);
/** Finding ids are UUIDv7: each a millisecond after the one before, as an ingest writes them. */
const findingId = () => uuidv7(clock++);

const finding = (h: Row, cve: string, score: number, over: Row = {}): Row => ({
  id: findingId(),
  org_id: h.scan_id === 'sc4' ? 'o2' : 'o1',
  scan_id: h.scan_id as string,
  sub_scan_id: h.sub_scan_id as string,
  site_id: h.site_id as string,
  host_id: h.id as string,
  mac: h.mac as string | null,
  ip: h.ip as string,
  cve_id: cve,
  score,
  port: 22,
  protocol: 'tcp',
  service: 'ssh',
  cpe: 'cpe:2.3:o:mikrotik:routeros:6.40.1:*:*:*:*:*:*:*',
  product: 'routeros',
  version: '6.40.1',
  confidence: 'high',
  evidence: 'banner',
  created_at: h.created_at as string,
  distro: null,
  distro_status: null,
  kev: null,
  epss: null,
  exposure: null,
  why: null,
  ...over,
});

export function world(): { seed: Seed; findings: Row[] } {
  const hosts = {
    h1: host('h1', 'ss1a', 'sc1', 's1', '10.0.0.1', 'AA:00:00:00:00:01', T(1)),
    h4: host('h4', 'ss1b', 'sc1', 's2', '10.0.0.2', null, T(1)),
    h5: host('h5', 'ss1a', 'sc1', 's1', '10.0.0.3', 'BB:00:00:00:00:02', T(1)),
    h2: host('h2', 'ss2a', 'sc2', 's1', '10.0.0.1', 'AA:00:00:00:00:01', T(20)),
    h3: host('h3', 'ss2a', 'sc2', 's1', '10.0.0.2', null, T(20)),
    h8: host('h8', 'ss2ba', 'sc2b', 's1', '10.0.0.9', 'CC:00:00:00:00:03', T(20)),
    h6: host('h6', 'ss3a', 'sc3', 's1', '10.0.0.1', 'AA:00:00:00:00:01', T(30)),
    h7: host('h7', 'ss4a', 'sc4', 's3', '10.0.0.1', 'AA:00:00:00:00:01', T(20)),
  };
  const findings = [
    finding(hosts.h1, 'CVE-2018-14847', 9.1),
    finding(hosts.h1, 'CVE-2019-3976', 5.5),
    finding(hosts.h4, 'CVE-2019-3976', 5.5, { distro_status: 'fixed', distro: '{"status":"fixed","source":"debian"}' }),
    finding(hosts.h5, 'CVE-2018-14847', 9.1, { kev: '{"date_added":"2021-11-03","ransomware":false}' }),
    finding(hosts.h2, 'CVE-2018-14847', 9.1, {
      kev: '{"date_added":"2021-11-03","ransomware":false}',
      epss: '{"score":0.97,"percentile":0.99}',
      exposure: '{"state":"yes","reasons":["wan"]}',
      why: '["in KEV","exposed"]',
    }),
    finding(hosts.h2, 'CVE-2023-30799', 7.2),
    finding(hosts.h3, 'CVE-2019-3976', 5.5, { port: null, protocol: null, service: null }),
    finding(hosts.h8, 'CVE-2023-30799', 7.2),
    finding(hosts.h6, 'CVE-2018-14847', 9.1),
    finding(hosts.h7, 'CVE-2018-14847', 9.1),
  ];
  const cve = (id: string, score: number, severity: string, published: string | null): Row => ({
    id,
    description: `${id} lets an attacker in`,
    published_at: published,
    vector: published === null ? null : 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    score,
    severity,
    compliance_tags: '["PCI-DSS"]',
    refs: `["https://nvd.nist.gov/vuln/detail/${id}"]`,
    updated_at: T(0),
  });
  const mark = (id: string, org: string, mac: string, cveId: string, status: string, created: string): Row => ({
    id,
    org_id: org,
    mac,
    cve_id: cveId,
    status,
    justification: `because ${id}`,
    scan_id: 'sc1',
    product: 'routeros',
    version: '6.40.1',
    cpe: null,
    expiration_date: null,
    created_by: 'alice',
    updated_by: 'alice',
    created_at: created,
    updated_at: created,
  });
  const seed: Seed = {
    sites: [
      { id: 's1', org_id: 'o1', name: 'one', token_hash: 'h1', token_rotated_at: T(0), created_at: T(0) },
      { id: 's2', org_id: 'o1', name: 'two', token_hash: 'h2', token_rotated_at: T(0), created_at: T(0) },
      { id: 's3', org_id: 'o2', name: 'three', token_hash: 'h3', token_rotated_at: T(0), created_at: T(0) },
    ],
    scans: [
      scan('sc1', { slot_at: T(1), created_at: T(1), started_at: T(1), finished_at: T(10), notify_state: 'queued' }),
      scan('sc2', { slot_at: T(20), created_at: T(20), started_at: T(20), finished_at: T(29), status: 'partial', notify_state: 'pending' }),
      // Created in the same millisecond as sc2, with a larger id: after it in the schedule's order.
      scan('sc2b', { slot_at: T(21), created_at: T(20), finished_at: T(25), status: 'failed', error: 'no site answered', highest_score: null }),
      scan('sc3', { slot_at: T(30), created_at: T(30), started_at: T(30), status: 'scanning', stop_requested: true }),
      scan('sc4', { org_id: 'o2', schedule_id: 'sch9', created_at: T(20), finished_at: T(26), notify_state: 'pending' }),
      scan('sc5', { schedule_id: null, kind: 'invoke', created_at: T(22), finished_at: T(23), notify_state: 'pending', ignore_offline_sites: true }),
    ],
    sub_scans: [
      sub('ss1a', 'sc1', 's1', 'completed', T(1), coverage(12)),
      sub('ss1b', 'sc1', 's2', 'completed', T(1)),
      sub('ss2a', 'sc2', 's1', 'completed', T(20), coverage(20)),
      sub('ss2b', 'sc2', 's2', 'skipped', T(20)),
      sub('ss2ba', 'sc2b', 's1', 'failed', T(20)),
      sub('ss3a', 'sc3', 's1', 'scanning', T(30)),
      sub('ss4a', 'sc4', 's3', 'completed', T(20)),
    ],
    hosts: Object.values(hosts),
    cves: [
      cve('CVE-2018-14847', 9.1, 'critical', '2018-08-02T00:00:00.000Z'),
      cve('CVE-2019-3976', 5.5, 'medium', null),
      cve('CVE-2023-30799', 7.2, 'high', '2023-07-19T00:00:00.000Z'),
    ],
    org_cve_facts: [
      { org_id: 'o1', cve_id: 'CVE-2018-14847', fixed_versions: '["6.42.1"]', advice: 'upgrade RouterOS', updated_at: T(0) },
      { org_id: 'o1', cve_id: 'CVE-2019-3976', fixed_versions: '["6.45.7"]', advice: null, updated_at: T(0) },
      { org_id: 'o2', cve_id: 'CVE-2018-14847', fixed_versions: '["6.42.1","7.1"]', advice: 'theirs', updated_at: T(0) },
    ],
    findings,
    inventories: [
      { site_id: 's1', run_id: 'r1', sub_scan_id: 'ss1a', at: T(2), body: '{"router":{"identity":"old"},"hosts":[],"neighbors":[]}' },
      {
        site_id: 's1',
        run_id: 'r2',
        sub_scan_id: 'ss2a',
        at: T(21),
        body: '{"router":{"identity":"new"},"hosts":[{"mac":"AA:00:00:00:00:01"}],"neighbors":[]}',
      },
      { site_id: 's2', run_id: 'r3', sub_scan_id: 'ss1b', at: T(2), body: '{"router":{"identity":"two"},"hosts":[],"neighbors":[]}' },
    ],
    // m2 and m3 share their millisecond: the one inserted later is the newer (SQLite's rowid order); ids in reverse.
    cve_marks: [
      mark('m9', 'o1', 'AA:00:00:00:00:01', 'CVE-2018-14847', 'accepted', T(3)),
      mark('m5', 'o1', 'AA:00:00:00:00:01', 'CVE-2018-14847', 'mitigated', T(4)),
      mark('m1', 'o1', 'AA:00:00:00:00:01', 'CVE-2018-14847', 'accepted', T(4)),
      mark('m7', 'o1', 'BB:00:00:00:00:02', 'CVE-2018-14847', 'mitigated', T(5)),
      mark('m8', 'o2', 'AA:00:00:00:00:01', 'CVE-2018-14847', 'accepted', T(5)),
    ],
  };
  return { seed, findings };
}

/**
 * The API shapes the pages read (copied from src/control-plane/api/shapes.ts and the console spec:
 * the browser imports nothing from the server). Fields added later are optional here and shown
 * generically where they appear.
 */
export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NONE';
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE'];
export type ScanStatus = 'queued' | 'scanning' | 'completed' | 'partial' | 'failed';

export interface SiteFeed {
  version: number;
  data_as_of: Record<string, string>;
  age_days: number | null;
  reported_at: string;
  hub_version: number | null;
}

export interface RouterInfo {
  identity: string;
  model?: string | null;
  board?: string | null;
  routeros_version?: string | null;
  channel?: string | null;
  serial?: string | null;
}

export interface Neighbor {
  identity: string | null;
  platform: string | null;
  version: string | null;
  mac_address: string | null;
  address: string | null;
  interface?: string | null;
}

export interface Site {
  id: string;
  name: string;
  online: boolean;
  last_seen_at: string | null;
  agent_version: string | null;
  feed: SiteFeed | null;
  router?: RouterInfo | null;
  neighbors?: Neighbor[];
  subnets?: string[];
  last_scan?: { id: string; status: string; finished_at: string | null } | null;
}

export interface Schedule {
  id: string;
  description: string;
  day_of_week: number;
  time_of_day: string;
  every_n_weeks: number;
  timezone: string;
  min_cvss: number;
  warning_threshold: number;
  ignore_offline_sites: boolean;
  next_scan_at: string | null;
  last_run_at: string | null;
  sites: { id: string; subnet: string }[];
  notification_group: string;
  created_at: string;
  updated_at: string;
  running?: boolean;
  status?: string;
}

export interface ScanSummary {
  id: string;
  scan_schedule_id: string | null;
  scan_id: string;
  targets: number;
  started_at: string | null;
  finished_at: string | null;
  runtime: string | null;
  average_score: number | null;
  highest_score: number | null;
  cve_count: number;
  unique_cves: number;
  hosts_scanned: number;
  hosts_with_cves: number;
  percentage_done: number;
  percentage_failed: number;
  running: boolean;
  json_url: string;
  pdf_url: string | null;
  status: ScanStatus;
  progress: number;
  error: string | null;
  /** What started it; `trigger` says what changed for a watch or re-match scan. */
  origin: 'schedule' | 'on-demand' | 'local' | 'watch' | 're-match';
  trigger: string | null;
}

export interface ScanEvent {
  time: string;
  message: string;
}

export interface ScanDetail extends ScanSummary {
  events: ScanEvent[];
}

/** The additive fix-first facts: shown when present, generically when new. */
export interface Facts {
  kev?: { date_added?: string; ransomware?: boolean; [key: string]: unknown } | null;
  epss?: { score?: number; percentile?: number; [key: string]: unknown } | null;
  exposure?: { state?: string; [key: string]: unknown } | null;
  why?: string[];
  priority_rank?: number;
  distro?: { distro?: string; status?: string; fixed_version?: string | null; [key: string]: unknown };
}

export interface CveInstance extends Facts {
  id: string;
  cve_id: string;
  description: string;
  published_at: string | null;
  created_at: string;
  vector: string | null;
  score: number;
  severity: Severity;
  scan_id: string;
  host: { id: string; hostname: string | null; mac_address: string | null; manufacturer: string | null; ip_address: string };
  status: 'open' | 'accepted' | 'mitigated';
  port: number | null;
  service: string | null;
  cpe: string;
  confidence: string;
  evidence: string;
}

export interface Mark {
  id: string;
  mac_address: string;
  cve_id: string;
  status: 'accepted' | 'mitigated' | string;
  justification: string;
  scan_id: string | null;
  expiration_date: string | null;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface FixFirst extends Facts {
  cve_id: string;
  score: number;
  severity: Severity;
  mac_address: string | null;
  ip_address: string | null;
  hostname: string | null;
  site_id: string;
  scan_id: string;
}

export interface Overview {
  sites: { total: number; online: number; offline: number };
  feeds: { site_id: string; name: string; age_days: number | null }[];
  findings_by_severity: Record<Severity, number>;
  fix_first: FixFirst[];
  recent_scans: ScanSummary[];
}

export interface DeviceRow {
  mac_address: string;
  manufacturer: string | null;
  hostname: string | null;
  site_id: string;
  last_ip: string | null;
  last_seen_at: string | null;
  open_cves: number;
  highest_score: number | null;
}

export interface DeviceDetail {
  mac_address: string;
  manufacturer: string | null;
  hostnames: string[];
  site_ids: string[];
  ips: { ip_address: string; first_seen_at: string; last_seen_at: string; scans: number }[];
  services: { port: number; service: string | null; product: string | null; version: string | null; last_seen_at: string }[];
  cves: CveInstance[];
  marks: Mark[];
}

export interface CveDevice {
  mac_address: string | null;
  ip_address: string | null;
  hostname: string | null;
  site_id: string;
  scan_id: string;
  port: number | null;
  product: string | null;
  version: string | null;
  score: number;
  status: string;
  last_seen_at: string | null;
}

export interface Delta {
  scan_id: string;
  previous_scan_id: string | null;
  new: Partial<CveInstance & FixFirst>[];
  resolved: Partial<CveInstance & FixFirst>[];
  unchanged: number;
}

export interface ReportRouter {
  identity: string;
  routeros_version: string;
  board: string | null;
  serial: string | null;
  read_at: string;
  hosts_known: number;
  neighbors: { mac_address: string; ip_address: string | null; identity: string | null; platform: string | null; version: string | null }[];
}

export interface ScanReport {
  scan: ScanDetail;
  sites: {
    site_id: string;
    status: string;
    subnets: string[];
    target_ips: string[] | null;
    error: string | null;
    started_at: string | null;
    finished_at: string | null;
    router: ReportRouter | null;
    coverage: Record<string, unknown> | null;
  }[];
  hosts: {
    id: string;
    site_id: string;
    ip_address: string;
    mac_address: string | null;
    hostname: string | null;
    manufacturer: string | null;
    os: string | null;
    open_ports: { port: number; protocol: string; service: string | null; product: string | null; version: string | null; cpe: string | null }[];
    cve_count: number;
  }[];
  cves: CveInstance[];
  warnings: CveInstance[];
  patched?: CveInstance[];
  min_cvss: number;
  warning_threshold: number;
}

export interface OperatorRow {
  id: string;
  email: string;
  name: string;
  role: string;
  created_at: string;
}

export interface TokenRow {
  id: string;
  name: string;
  scopes: string[] | string;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** Shapes of the scan pipeline's rows, shared by the runner, the repository and the reports. */
import type { Coverage, DeviceJudgement } from '../../shared/report/coverage.js';
import type { Severity } from '../../shared/severity.js';
import type { DistroVerdict } from '../../cve/distro/verdict.js';
import type { EpssScore, KevEntry } from '../../cve/intel.js';
import type { Exposure } from '../../cve/priority.js';

export type ScanKind = 'schedule' | 'invoke' | 'single_ip' | 'multiple_ips';
/** A scan no schedule made (src/agent/pipeline/spec.ts): null for the others. */
export type ScanOriginTag = 'watch' | 're-match';
/** 'paused': stored as queued or scanning with `paused_until` set (its scan window is closed). */
export type ScanStatus = 'queued' | 'scanning' | 'paused' | 'completed' | 'partial' | 'failed';
export type HostSourceTag = 'arp' | 'dhcp' | 'bridge' | 'neighbor' | 'sweep';

export interface ScanRow {
  id: string;
  label: string;
  kind: ScanKind;
  origin: ScanOriginTag | null;
  /** What started a scan of origin watch or re-match, in words. */
  trigger: string | null;
  schedule_id: string | null;
  slot_at: string | null;
  cp_scan_id: string | null;
  cp_sub_scan_id: string | null;
  site_id: string;
  subnets: string[];
  target_ips: string[] | null;
  min_cvss: number;
  warning_threshold: number;
  ignore_offline_sites: boolean;
  /** A targeted scan that asked to judge the router and its neighbors too (a site-wide scan always does). */
  with_router: boolean;
  status: ScanStatus;
  progress: number;
  stage: string;
  hosts_total: number | null;
  hosts_done: number;
  router_state: string | null;
  stop_requested_at: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  checkpoint_at: string | null;
  /** Set while the run waits for its schedule's window to open again: the opening it resumes at. */
  paused_until: string | null;
}

export interface ServiceRecord {
  /** Null for what the router told about itself or a neighbor (no port involved). */
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
  service: string;
  product: string | null;
  vendor: string | null;
  version: string | null;
  update: string | null;
  /** Release channel as seen (RouterOS `long-term`); not stored, cve/ reads it. */
  channel: string | null;
  distro: string | null;
  /** The name cve/ lists the service under (services.ts serviceCpe); probes report no CPE. */
  cpe: string | null;
  confidence: number;
  evidence: string;
}

export interface HostRecord {
  ip: string;
  mac: string | null;
  hostname: string | null;
  manufacturer: string | null;
  randomized_mac: boolean;
  role: 'host' | 'router' | 'neighbor';
  sources: HostSourceTag[];
  found_by: string;
  services: ServiceRecord[];
  /** Probes on this host cut by a deadline or a limit before they named the service. */
  probe_cuts?: ProbeCut[];
}

export interface ProbeCut {
  port: number;
  protocol: 'tcp' | 'udp';
  reason: string;
}

/** What the run notes as it goes, for its coverage statement (stored, so a resumed run's report is whole). */
export interface RunNotes {
  /** The CVE data the run matched against; null when none was loaded. */
  cve_data?: (NonNullable<Coverage['cve_data']> & { warning: string | null }) | null;
  router?: Coverage['router'];
  devices?: DeviceJudgement[];
  /** Said about the router and its neighbors: what could not be judged, and why. */
  warnings?: string[];
  /** The polite scanner: how the connect rate followed the router's CPU load; absent when the load was not watched. */
  connect_rate?: ConnectRateNotes;
}

/** One change of the scan's connect rate (connects per second, 0 = no limit). */
export interface ConnectRateChange {
  at: string;
  /** The router's CPU load that caused it, percent. */
  cpu_load: number;
  /** With no limit set, the rate measured since the reading before. */
  rate_before: number;
  rate_after: number;
}

export interface ConnectRateNotes {
  /** config scan.connects_per_second (0 = no limit). */
  configured: number;
  ceiling_percent: number;
  changes: ConnectRateChange[];
  /** Why the router's load could not be read, the first time it could not; null when it always could. */
  unreadable: string | null;
}

export interface StoredFinding {
  cve_id: string;
  score: number;
  severity: Severity;
  vector: string | null;
  cvss_version: string | null;
  cpe: string;
  product: string | null;
  service: string | null;
  version_used: string;
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
  confidence: number;
  confidence_level: 'high' | 'medium' | 'low';
  evidence: string;
  fixed_in: string | null;
  possibly_backported: boolean;
  assumptions: string[];
  warning: boolean;
  advice: string | null;
  description: string;
  published_at: string | null;
  references: { url: string; tags: string[] }[];
  /** The Debian/Ubuntu tracker's verdict; null when the banner names no distribution build. */
  distro: DistroVerdict | null;
  /** null: not in the KEV catalog (or no catalog loaded). */
  kev: KevEntry | null;
  /** null: no EPSS score loaded for it. */
  epss: EpssScore | null;
  exposure: FindingExposure;
  /** Why it sits where it does in the fix-first order (cve/priority.ts whyOf). */
  why: string[];
}

/** What the router lets the WAN reach: yes with the reasons, no, or unknown with why (no router read, menus missing). */
export interface FindingExposure {
  state: 'yes' | 'no' | 'unknown';
  reasons: Exposure[];
  /** Set when state is unknown. */
  unknown_reason: string | null;
}

/**
 * The control plane's persistence, as the rest of it sees it. Every method is async and coarse
 * (one call, one transaction), so an implementation over a network database (PostgreSQL, for
 * installations that outgrow one machine) fits behind the same interface as the embedded SQLite.
 */
import type { ScanScheduleWrite } from '../../shared/schedule/rules.js';
import type { CveRecord, DistroVerdictReport, ExposureReport, Finding, OpenPort, Report } from '../../protocol/index.js';
import type { Coverage } from '../../shared/report/coverage.js';

export interface Site {
  id: string;
  org_id: string;
  name: string;
  created_at: string;
  token_rotated_at: string;
  last_seen_at: string | null;
  agent_version: string | null;
}

export interface StoredSchedule extends ScanScheduleWrite {
  id: string;
  org_id: string;
  anchor_at: string;
  /** UTC ISO; rendered in the schedule's zone by the API. */
  next_scan_at: string;
  last_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export type ScanKind = 'scheduled' | 'invoke' | 'single_ip' | 'multiple_ips' | 'local';
/** Why a local run happened, when no schedule made it (the agent's scan.status `origin`). */
export type ScanOrigin = 'watch' | 're-match';
export type ScanStatus = 'queued' | 'scanning' | 'completed' | 'partial' | 'failed';
export type SubScanStatus = 'pending' | 'queued' | 'scanning' | 'stopping' | 'completed' | 'failed' | 'stopped' | 'skipped';

export interface ScanRow {
  id: string;
  org_id: string;
  schedule_id: string | null;
  slot_at: string | null;
  kind: ScanKind;
  /** Null unless a local run says why: see ScanOrigin. */
  origin: ScanOrigin | null;
  trigger: string | null;
  label: string;
  min_cvss: number;
  warning_threshold: number;
  ignore_offline_sites: boolean;
  notification_group: string | null;
  status: ScanStatus;
  stop_requested: boolean;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  cve_count: number;
  score_sum: number;
  highest_score: number | null;
  warning_count: number;
}

export interface SubScanRow {
  id: string;
  scan_id: string;
  site_id: string;
  run_id: string | null;
  subnets: string[];
  target_ips: string[] | null;
  status: SubScanStatus;
  progress: number;
  hosts_done: number;
  hosts_total: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  findings_expected: number | null;
  findings_received: number;
  /** What the site's run could not see, as its scan.finished said; null when it sent none. */
  coverage: Coverage | null;
  /** Set while the site's run waits for its schedule's scan window: the opening it resumes at. */
  paused_until: string | null;
}

/** The router inventory a site's run reported last (its JSON body as the agent sent it). */
export interface RouterInventoryRow {
  sub_scan_id: string;
  site_id: string;
  at: string;
  router: { identity: string; routeros_version: string; board: string | null; serial: string | null };
  hosts: { mac: string; ip: string | null; hostname: string | null; interface: string | null; source: string }[];
  neighbors: { mac: string; ip: string | null; identity: string | null; platform: string | null; version: string | null }[];
}

export interface ScanEventRow {
  at: string;
  level: string;
  site_id: string | null;
  message: string;
}

/** Counts over a scan's hosts and findings, kept up to date at ingest so a summary costs a few index look-ups. */
export interface ScanAggregates {
  unique_cves: number;
  open_ports: number;
  unique_ports: number;
  hosts_scanned: number;
  hosts_with_cves: number;
  sites_with_cves: number;
}

/** A scan's sites counted by status, for summaries of scans over thousands of sites. */
export interface SiteTotals {
  /** Sites the scan covers (skipped offline sites are not among them). */
  targets: number;
  /** Of those, finished either way. */
  scanned: number;
  failed: number;
  /** Sum of the progress (0..100) of the targets, finished ones counting 100. */
  progress: number;
  /** Of the targets not finished, those paused for their scan window. */
  paused: number;
}

export interface NewSubScan {
  id: string;
  site_id: string;
  subnets: string[];
  target_ips: string[] | null;
  status: SubScanStatus;
  error: string | null;
}

export interface NewScan {
  // origin and trigger: only an agent's local run carries them (ingest sets them).
  scan: Omit<
    ScanRow,
    'status' | 'stop_requested' | 'error' | 'started_at' | 'finished_at' | 'cve_count' | 'score_sum' | 'highest_score' | 'warning_count' | 'origin' | 'trigger'
  >;
  subScans: NewSubScan[];
  events: { site_id: string | null; level: string; message: string }[];
}

export interface HostRow {
  id: string;
  scan_id: string;
  site_id: string;
  ip: string;
  mac: string | null;
  hostname: string | null;
  manufacturer: string | null;
  os: string | null;
  sources: string[];
  open_ports: OpenPort[];
  cve_count: number;
  created_at: string;
}

/** A finding with what the API shows beside it: its host and the CVE record. */
export interface FindingView {
  id: string;
  scan_id: string;
  site_id: string;
  host: { id: string; ip: string; mac: string | null; hostname: string | null; manufacturer: string | null };
  port: number | null;
  protocol: string | null;
  service: string | null;
  cpe: string;
  product: string | null;
  version: string | null;
  confidence: string;
  evidence: string;
  created_at: string;
  cve: CveRecord;
  /** The fix-first facts the agent sent (absent from an agent before them). */
  distro?: DistroVerdictReport;
  kev?: Finding['kev'];
  epss?: Finding['epss'];
  exposure?: ExposureReport;
  why?: string[];
}

export interface Occurrence {
  id: string;
  scan_id: string;
  host_id: string;
  mac: string;
  ip: string;
  cve_id: string;
  created_at: string;
}

export interface CveMarkRow {
  id: string;
  org_id: string;
  mac_address: string;
  cve_id: string;
  status: 'accepted' | 'mitigated';
  justification: string;
  scan_id: string | null;
  product: string | null;
  version: string | null;
  /** The CPE of the finding the mark was made for: it lapses once the finding's product key differs (`markInForce`). */
  cpe: string | null;
  expiration_date: string | null;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface IngestItem {
  site: Pick<Site, 'id' | 'org_id'>;
  stream_id: string;
  report: Report;
  received_at: string;
}

/** `scan_id`: the scan an applied report belongs to (absent for a report of no scan, such as an inventory outside a run). */
export type IngestResult = { outcome: 'applied'; scan_id?: string } | { outcome: 'duplicate' } | { outcome: 'rejected'; reason: string };

export interface IngestOutcome {
  results: IngestResult[];
  /** Scans that reached a terminal status in this batch for the first time. */
  finished_scans: string[];
  /** A finding entered KEV or became exposed: finding alerts are waiting for the notifier. */
  alerts?: boolean;
}

export interface PendingCommand {
  seq: number;
  type: string;
  body: Record<string, unknown>;
  expires_at: string | null;
}

export interface DeliveryRow {
  id: string;
  scan_id: string;
  group_name: string;
  url: string;
  event: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface SubScanChange {
  id: string;
  status: SubScanStatus;
  error: string | null;
}

export interface SiteStore {
  create(site: Site & { token_hash: string }): Promise<void>;
  list(orgId?: string): Promise<Site[]>;
  get(id: string): Promise<Site | undefined>;
  byTokenHash(hash: string): Promise<Site | undefined>;
  rotateToken(id: string, hash: string, at: string): Promise<boolean>;
  /** When each site's agent last said hello, and with which version; many at once. */
  recordSeen(entries: { id: string; at: string; agentVersion: string }[]): Promise<void>;
  /** The CVE feed version each site's agent last reported (hello, heartbeat); many at once. */
  recordFeed(entries: ({ id: string } & SiteFeed)[]): Promise<void>;
  /** The feed versions reported by the org's sites (a site whose agent never said one is absent). */
  feeds(orgId: string): Promise<Map<string, SiteFeed>>;
}

/** A site's CVE feed as its agent last reported it. */
export interface SiteFeed {
  version: number;
  /** Each source's own date for the data held (nvd, kev, epss, ...). */
  data_as_of: Record<string, string>;
  /** When the agent reported it. */
  at: string;
}

export interface ScheduleStore {
  list(orgId: string): Promise<StoredSchedule[]>;
  get(orgId: string, id: string): Promise<StoredSchedule | undefined>;
  /** Stores the schedule and its commands in one transaction. */
  insert(schedule: StoredSchedule, commands?: CommandItem[]): Promise<PendingCommand[]>;
  /** Replaces the schedule and stores its commands in one transaction; undefined (and nothing written) if it is gone. */
  replace(schedule: StoredSchedule, commands?: CommandItem[]): Promise<PendingCommand[] | undefined>;
  /** Deletes the schedule and stores its commands in one transaction; undefined (and nothing written) if it was gone. */
  delete(orgId: string, id: string, commands?: CommandItem[]): Promise<PendingCommand[] | undefined>;
  due(nowIso: string): Promise<StoredSchedule[]>;
  setTiming(id: string, nextScanAt: string, lastRunAt: string | null): Promise<void>;
}

export interface ScanStore {
  /**
   * Creates a scan and its sub-scans; a scheduled scan whose slot exists already gets only the
   * sub-scans it lacks. The schedule's last_run_at becomes `at` (a slot's own time for a slot), and
   * the commands are stored, all in one transaction.
   */
  create(input: NewScan, at: string, commands?: CommandItem[]): Promise<{ scan: ScanRow; created: boolean; finished: boolean; commands: PendingCommand[] }>;
  get(orgId: string, id: string): Promise<ScanRow | undefined>;
  list(orgId: string, scheduleId?: string): Promise<ScanRow[]>;
  latestOfSchedule(orgId: string, scheduleId: string): Promise<ScanRow | undefined>;
  /** The non-terminal scan of a schedule, if one runs. */
  activeOfSchedule(scheduleId: string): Promise<ScanRow | undefined>;
  subScans(scanId: string): Promise<SubScanRow[]>;
  /** The latest router inventory of each of the scan's sub-scans that reported one. */
  routerInventories(scanId: string): Promise<RouterInventoryRow[]>;
  siteTotals(scanId: string): Promise<SiteTotals>;
  events(scanId: string, limit?: number): Promise<ScanEventRow[]>;
  aggregates(scanId: string): Promise<ScanAggregates>;
  hosts(scanId: string): Promise<HostRow[]>;
  findings(scanId: string): Promise<FindingView[]>;
  /** Moves sub-scans (stop, offline, time-out) and recomputes the scan; true if it just finished. */
  changeSubScans(scanId: string, changes: SubScanChange[], event: { level: string; message: string } | null, at: string): Promise<boolean>;
  requestStop(scanId: string, at: string): Promise<void>;
  /** Sub-scans still open that were created before `beforeIso`. */
  overdueSubScans(beforeIso: string): Promise<SubScanRow[]>;
}

export interface IngestStore {
  /** The highest seq stored for an agent's outbox stream, 0 if none. */
  streamSeq(siteId: string, streamId: string): Promise<number>;
  /** Applies a batch in one transaction, each report at most once per (site, stream, seq). */
  ingest(items: IngestItem[]): Promise<IngestOutcome>;
}

export type CommandBuilder = (seq: number) => { type: string; body: Record<string, unknown>; expires_at: string | null };

/**
 * A command for a site, written in the same transaction as the rows of the request that causes it
 * (a schedule, a scan, a mark): either both are stored or neither. `build` may throw (a frame its
 * schema refuses), which rolls the whole write back.
 */
export interface CommandItem {
  siteId: string;
  build: CommandBuilder;
}

export interface CommandStore {
  /** Stores commands for many sites in one transaction, each with its site's next seq. */
  enqueue(items: { siteId: string; build: CommandBuilder }[]): Promise<PendingCommand[]>;
  /** Drops what the agent applied (at or below `appliedSeq`) and returns the rest in order, without the expired. */
  pending(siteId: string, appliedSeq: number, nowIso: string): Promise<PendingCommand[]>;
  /** Records what agents applied, many sites in one transaction. */
  ack(entries: { siteId: string; seq: number }[]): Promise<void>;
  /**
   * The unexpired commands above each site's `afterSeq`, in seq order per site; a read only, many
   * sites in one query (a hub woken for thousands of sites makes one round trip, not thousands).
   */
  unsent(cursors: readonly { siteId: string; afterSeq: number }[], nowIso: string): Promise<Map<string, PendingCommand[]>>;
}

export interface VulnStore {
  findingsByMacs(orgId: string, macs: string[]): Promise<FindingView[]>;
  occurrences(orgId: string, macs: string[]): Promise<Occurrence[]>;
  /** The CVE as this organization knows it (public record and its own facts); undefined unless one of its scans found it. */
  cve(orgId: string, id: string): Promise<CveRecord | undefined>;
  latestFinding(orgId: string, mac: string, cveId: string): Promise<FindingView | undefined>;
  /** Appends the mark and stores its commands in one transaction. */
  insertMark(mark: CveMarkRow, commands?: CommandItem[]): Promise<PendingCommand[]>;
  listMarks(orgId: string, filter: { mac_address?: string; cve_id?: string; status?: string }): Promise<CveMarkRow[]>;
  /** Every mark of these devices, newest first, to resolve the one that applies. */
  marksOf(orgId: string, macs: string[]): Promise<CveMarkRow[]>;
}

export interface NotificationStore {
  /** Finished scans whose deliveries have not been queued yet. */
  awaiting(): Promise<ScanRow[]>;
  /** The coverage statement of each site of the scan, as its run reported it (null when it sent none). */
  coverageOf(scanId: string): Promise<{ site_id: string; coverage: Coverage | null }[]>;
  /** Queues the scan's deliveries and marks it queued, in one transaction; nothing when it is no longer awaiting (another node queued it). */
  queue(scanId: string, deliveries: DeliveryRow[]): Promise<void>;
  /**
   * Pending deliveries due at `nowIso`, oldest first, as they were due. Where several nodes share
   * the store they are claimed for `leaseMs` (none of them is due to another node meanwhile; one
   * whose attempt is not recorded by then is due again), so `leaseMs` must outlast an attempt.
   */
  due(nowIso: string, limit: number, leaseMs?: number): Promise<DeliveryRow[]>;
  nextDueAt(): Promise<string | undefined>;
  recordAttempt(
    id: string,
    update: Pick<DeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status' | 'last_error' | 'delivered_at'>,
  ): Promise<void>;
  list(scanId?: string): Promise<DeliveryRow[]>;
  /** Findings that entered KEV or became exposed and whose deliveries are not queued yet (finding-watch.ts). */
  pendingAlerts(): Promise<FindingAlert[]>;
  /**
   * A KEV catalog update: queues a `kev` alert for each open finding whose device's state is not
   * in KEV yet and moves that state, in one transaction (finding-watch.ts). Returns the alerts raised.
   */
  kevCatalogUpdated(catalog: ReadonlyMap<string, NonNullable<Finding['kev']>>, at: string): Promise<number>;
  /** Queues an alert's deliveries and marks it queued, in one transaction; nothing when it is no longer pending (another node queued it). */
  queueAlert(alertId: string, deliveries: DeliveryRow[]): Promise<void>;
}

/** One change of a finding into KEV or exposure, with what its webhook says. */
export interface FindingAlert {
  id: string;
  kind: 'kev' | 'exposed';
  created_at: string;
  scan: ScanRow;
  finding: FindingView;
}

/** A finding's facts for counting and fix-first sorting, without its CVE record's text. */
export interface FindingFacts {
  id: string;
  scan_id: string;
  site_id: string;
  host: { mac: string | null; ip: string; hostname: string | null };
  cve: { id: string; score: number; severity: CveRecord['severity'] };
  cpe: string;
  distro_status: string | null;
  kev?: Finding['kev'];
  epss?: Finding['epss'];
  exposure?: ExposureReport;
  why?: string[];
}

export type OperatorRole = 'viewer' | 'operator' | 'admin';

/** A person who signs in to the console; `password_hash` is scrypt's (console/passwords.ts). */
export interface OperatorRow {
  id: string;
  org_id: string;
  /** Lower-case; unique across organizations (it is what signs in). */
  email: string;
  name: string;
  role: OperatorRole;
  password_hash: string;
  created_at: string;
  updated_at: string;
  /** Sessions created before this instant are void (sign out everywhere, password reset). */
  sessions_valid_after: string;
}

export interface OperatorStore {
  /** False (nothing written) when the email is taken. */
  create(operator: OperatorRow): Promise<boolean>;
  get(id: string): Promise<OperatorRow | undefined>;
  byEmail(email: string): Promise<OperatorRow | undefined>;
  list(orgId?: string): Promise<OperatorRow[]>;
  /** Deletes the operator and its sessions; false when it was gone. */
  remove(id: string): Promise<boolean>;
  /** A new password: every session of the operator ends, in the same transaction. */
  setPassword(id: string, passwordHash: string, at: string): Promise<boolean>;
  /** Sign out everywhere: the operator's sessions end and none created before `at` counts. */
  endSessions(id: string, at: string): Promise<void>;
}

/** A console session: the cookie is never stored, only its sha256. */
export interface ConsoleSessionRow {
  token_hash: string;
  operator_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  /** The absolute end (created_at + session_max_hours); the idle end is computed from last_seen_at. */
  expires_at: string;
}

export interface SessionStore {
  create(session: ConsoleSessionRow): Promise<void>;
  get(tokenHash: string): Promise<ConsoleSessionRow | undefined>;
  touch(tokenHash: string, at: string): Promise<void>;
  delete(tokenHash: string): Promise<void>;
  /** Drops sessions past their absolute end (`expires_at <= nowIso`) or idle since `idleBeforeIso`. */
  prune(nowIso: string, idleBeforeIso: string): Promise<void>;
}

/** An API token minted by the control plane; its JWT is never stored, its `id` is the JWT's jti. */
export interface ApiTokenRow {
  id: string;
  org_id: string;
  name: string;
  scopes: string[];
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface ApiTokenStore {
  create(token: ApiTokenRow): Promise<void>;
  list(orgId: string): Promise<ApiTokenRow[]>;
  get(id: string): Promise<ApiTokenRow | undefined>;
  /** False when the org has no such token; revoking twice keeps the first time. */
  revoke(orgId: string, id: string, at: string): Promise<boolean>;
}

/** Failed sign-ins by key (`email:<address>`, `ip:<address>`), for login throttling. */
export interface LoginFailureStore {
  /**
   * One sign-in attempt, in one transaction (so parallel guesses cannot all pass the check): when
   * a key has `limit` failures after `sinceIso`, nothing is written and those failures' times
   * (oldest first) of each such key are returned; else the attempt is recorded as a failure under
   * every key (taken back by `succeeded`) and its row ids are returned. Rows older than `sinceIso` go.
   */
  attempt(keys: string[], at: string, sinceIso: string, limit: number): Promise<{ throttled: string[][] } | { ids: number[] }>;
  /** The password was right: the attempt's rows and every failure under `clearKey` go. */
  succeeded(ids: number[], clearKey: string): Promise<void>;
}

/**
 * Read queries of the console pages (store/sqlite/console.ts). A device's *current* findings are
 * those of the newest finished scan that saw it (by MAC, or by site and address without one): a
 * CVE a later scan no longer reports has been resolved.
 */
export interface ConsoleStore {
  /** The router inventory the site reported last, whichever run it came with. */
  latestInventory(siteId: string): Promise<Omit<RouterInventoryRow, 'sub_scan_id'> | undefined>;
  /** The newest scan of the organization that covered the site (its part not skipped). */
  lastScanOfSite(orgId: string, siteId: string): Promise<ScanRow | undefined>;
  /** What the lists count and sort of every current finding of the organization (no CVE text: cheap for tens of thousands). */
  currentFacts(orgId: string): Promise<FindingFacts[]>;
  /** Current findings of the organization's devices, optionally of one MAC or one CVE. */
  currentFindings(orgId: string, filter?: { mac?: string; cveId?: string }): Promise<FindingView[]>;
  /** Each MAC's newest host row across the organization's scans, newest first. */
  devices(orgId: string): Promise<HostRow[]>;
  /** Every host row of a MAC in the organization's scans, oldest first. */
  hostsOfMac(orgId: string, mac: string): Promise<HostRow[]>;
  /** The newest finished scan of the same schedule created before this one. */
  previousScan(scan: ScanRow): Promise<ScanRow | undefined>;
}

/**
 * Wake-ups between the nodes sharing one database (on SQLite there is one node: an in-process
 * emitter). Only small triggers travel here; what they are about is read from the store.
 */
export interface ClusterSignals {
  /** Other nodes may be listening (PostgreSQL); false on SQLite, where relaying to them is work for nothing. */
  readonly clustered: boolean;
  /**
   * Called by the store INSIDE the transaction that stored commands for these sites, with that
   * transaction's handle (SQLite: its Db; PostgreSQL: the tx's PoolClient, and the call must be
   * awaited). Every node's `onCommands` handlers hear of it once the transaction commits, never if it rolls back.
   */
  commandsStored(tx: unknown, siteIds: readonly string[]): void | Promise<void>;
  /** Commands for these sites were committed (on any node); a handler reads them from `commands.pending`. */
  onCommands(handler: (siteIds: string[]) => void): () => void;
  /** Sends a small message (< 7 KB of UTF-8) to every node's subscribers of `channel`, this node's included. Channel: [a-z_][a-z0-9_]*. */
  publish(channel: string, payload: string): Promise<void>;
  subscribe(channel: string, handler: (payload: string) => void): () => void;
  /** Called after the node may have missed messages (PostgreSQL: its LISTEN connection came up, first or again after a loss). */
  onReconnected(handler: () => void): () => void;
}

export interface ControlPlaneStore {
  sites: SiteStore;
  schedules: ScheduleStore;
  scans: ScanStore;
  ingest: IngestStore;
  commands: CommandStore;
  vulns: VulnStore;
  notifications: NotificationStore;
  operators: OperatorStore;
  sessions: SessionStore;
  apiTokens: ApiTokenStore;
  loginFailures: LoginFailureStore;
  console: ConsoleStore;
  signals: ClusterSignals;
  /**
   * Readiness (GET /readyz): resolves when the database answers and every migration this build
   * knows is applied; throws, with a reason for the log, otherwise. One cheap round trip.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

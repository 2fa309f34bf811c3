import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { Inventory, InventoryHost } from '../routeros/index.js';
import type { Clock } from '../../shared/clock.js';
import { utcIso } from '../../shared/clock.js';
import { forEachLimited } from '../scan/limits.js';
import type { ServiceFinding } from '../scan/service.js';
import { createScanSession, linkedSignal, type HostResult } from '../scan/session.js';
import { defaultScanSettings, type ScanSettings } from '../scan/settings.js';
import { serviceCpe } from '../cve/services.js';
import { findingsForHost, type CveLookup } from './cve-findings.js';
import type { NewScan, ScanRepository } from './scan-repository.js';
import type { HostRecord, HostSourceTag, ScanRow, ServiceRecord, StoredFinding } from './scan-types.js';
import { inScope, isCanonicalIPv4 } from '../../shared/ipv4.js';
import { parseRouterOsVersion } from '../../shared/routeros-version.js';
import { scanKeyOf, scanLabelOf } from '../../shared/scan-label.js';

/** Reads the site's router; absent for a site without one. */
export type InventoryReader = (signal: AbortSignal) => Promise<Inventory>;

export interface ScanRunnerDeps {
  scans: ScanRepository;
  clock: Clock;
  logger: Logger;
  readInventory?: InventoryReader;
  /** Absent when no CVE database is loaded: the scan still finds hosts and services. */
  cve?: CveLookup;
  scanSettings?: Partial<ScanSettings>;
  /** Ports to scan (default: the engine's list). */
  ports?: string;
  udp?: boolean;
  /** Told how long each stage took when a scan ends (benchmarks, diagnostics). */
  onTimings?: (scanId: string, timings: StageTimings) => void;
}

/** Milliseconds per stage; cve and storage are the parts of `hosts` spent matching and writing. */
export interface StageTimings {
  inventory: number;
  discovery: number;
  hosts: number;
  cve: number;
  storage: number;
  router: number;
  total: number;
  findings: number;
}

/** Progress bands of the stages, so the percent only moves forward. */
const bands = { inventory: [0, 5], discovery: [5, 15], hosts: [15, 95], router: [95, 99] } as const;
const band = (stage: keyof typeof bands, share: number) => bands[stage][0] + (bands[stage][1] - bands[stage][0]) * Math.min(1, Math.max(0, share));

const tableTags: Record<string, HostSourceTag> = {
  arp: 'arp',
  'dhcp-lease': 'dhcp',
  'bridge-host': 'bridge',
  neighbor: 'neighbor',
  'ipv6-neighbor': 'neighbor',
};

function serviceRecord(finding: ServiceFinding): ServiceRecord {
  return {
    port: finding.port,
    protocol: finding.protocol,
    service: finding.service,
    product: finding.product ?? null,
    vendor: finding.vendor ?? null,
    version: finding.version ?? null,
    update: finding.update ?? null,
    channel: finding.channel ?? null,
    distro: finding.distro ?? null,
    cpe: serviceCpe(finding),
    confidence: finding.confidence,
    evidence: finding.evidence,
  };
}

/**
 * Runs one site's scan: router inventory, discovery, then host by host ports, services and
 * CVEs, each host stored (with its reports) the moment it is done. A stop aborts the signal;
 * what was stored stays. A scan found unfinished at start is resumed: stored hosts are not
 * probed again.
 */
export function createScanRunner(deps: ScanRunnerDeps) {
  const { scans, clock } = deps;
  const settings: ScanSettings = { ...defaultScanSettings, ...deps.scanSettings };
  const now = () => utcIso(clock.now());

  function create(scan: Omit<NewScan, 'label'>): ScanRow {
    for (const ip of scan.target_ips ?? []) {
      if (!inScope(ip, scan.subnets))
        throw new AgentError(
          'AGENT_ERR_SCAN_OUT_OF_SCOPE',
          `${ip} is outside the schedule's subnets for this site (${scan.subnets.join(', ')}); nothing was sent`,
        );
    }
    const id = randomUUID();
    return scans.create({ ...scan, id, label: scanLabelOf(scanKeyOf({ ...scan, run_id: id })) }, now());
  }

  async function run(scanId: string, callerSignal: AbortSignal): Promise<ScanRow> {
    const scan = scans.get(scanId);
    if (!scan) throw new Error(`no scan ${scanId}`);
    const log = deps.logger.child({ component: 'pipeline', scan_id: scan.id, label: scan.label });
    const { signal, unlink } = linkedSignal(callerSignal);
    const event = (message: string, level: 'info' | 'warning' | 'error' = 'info') => {
      scans.event(scan.id, level, message, now());
      log[level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'info']({ event: message }, 'scan event');
    };
    let lastReported = -10;
    const progress = (stage: keyof typeof bands, share: number, hostsTotal: number | null, hostsDone: number) => {
      const percent = Math.floor(band(stage, share));
      // Every percent is stored; the control plane hears of every fifth, so a /22 does not flood the outbox.
      const report = percent - lastReported >= 5;
      if (report) lastReported = percent;
      scans.progress(scan.id, { progress: percent, stage, hosts_total: hostsTotal, hosts_done: hostsDone }, now(), report);
    };

    const timings: StageTimings = { inventory: 0, discovery: 0, hosts: 0, cve: 0, storage: 0, router: 0, total: 0, findings: 0 };
    const startedAt = performance.now();
    let stageAt = startedAt;
    const lap = (stage: 'inventory' | 'discovery' | 'hosts' | 'router') => {
      const at = performance.now();
      timings[stage] += at - stageAt;
      stageAt = at;
    };
    const timed = <T>(part: 'cve' | 'storage', work: () => T): T => {
      const at = performance.now();
      try {
        return work();
      } finally {
        timings[part] += performance.now() - at;
      }
    };
    let flushWrites = () => undefined as void;
    const resumed = scan.status === 'scanning';
    scans.start(scan.id, now());
    event(
      resumed
        ? `Resuming scan after a restart (${scans.hostsByState(scan.id, 'done').length} hosts already done)`
        : `Scan started: ${scan.target_ips ? scan.target_ips.join(', ') : scan.subnets.join(', ')}`,
    );
    const siteWide = scan.target_ips === null;
    const targets = scan.target_ips ? scan.target_ips.map((ip) => `${ip}/32`) : scan.subnets;

    try {
      // 1. What the router knows.
      progress('inventory', 0, null, 0);
      let inventory: Inventory | undefined;
      if (deps.readInventory) {
        try {
          inventory = await deps.readInventory(signal);
          scans.setRouterState(scan.id, 'online');
          event(
            `Router ${inventory.router.identity ?? '?'} RouterOS ${inventory.router.version}${inventory.router.channel ? ` (${inventory.router.channel})` : ''} over ${inventory.transport}: ${inventory.hosts.length} hosts, ${inventory.neighbors.length} neighbors`,
          );
        } catch (error) {
          signal.throwIfAborted();
          scans.setRouterState(scan.id, 'offline');
          const reason = error instanceof Error ? error.message : String(error);
          if (!scan.ignore_offline_sites) throw new SiteFailure(`router unreachable: ${reason}`);
          event(`Router unreachable (${reason}); scanning on with the subnet sweep alone`, 'warning');
        }
      } else {
        event('No router configured: the subnet sweep alone finds hosts', 'warning');
      }
      const byIp = new Map<string, InventoryHost>();
      for (const host of inventory?.hosts ?? []) for (const ip of host.ips) byIp.set(ip, host);
      const knownAlive = [...byIp.keys()].filter((ip) => inScope(ip, targets));
      progress('inventory', 1, knownAlive.length, 0);
      lap('inventory');

      // 2. Discovery, checkpointed: a resumed scan that got past it does not sweep again.
      const session = createScanSession(
        { subnets: targets, knownAlive, ports: deps.ports, udp: deps.udp },
        { settings, signal, emit: () => undefined, logger: log },
      );
      if (scans.hostsByState(scan.id, 'pending').length + scans.hostsByState(scan.id, 'done').length === 0) {
        event(`Discovery: ${session.targets.length} addresses, ${knownAlive.length} known to the router`);
        const alive: HostResult[] = [];
        await session.discover(
          (host) => alive.push(host),
          (done) => {
            if (done % 64 === 0) progress('discovery', done / session.targets.length, knownAlive.length, 0);
          },
        );
        scans.addPendingHosts(
          scan.id,
          alive.map((host) => ({ ip: host.address, found_by: host.foundBy })),
        );
        event(`Discovery found ${alive.length} live hosts`);
      }
      lap('discovery');
      const pending = scans.hostsByState(scan.id, 'pending');
      const total = pending.length + scans.hostsByState(scan.id, 'done').length;
      let done = total - pending.length;
      progress('hosts', done / Math.max(1, total), total, done);

      // 3. Host by host: ports, services, CVEs, stored as one unit.
      const writer = hostWriter((batch) => {
        timings.findings += timed('storage', () => scans.completeHosts(scan, batch, now())).findingsAdded;
      });
      flushWrites = () => writer.flush();
      await forEachLimited(pending, settings.hostGroup, signal, async (pendingHost) => {
        const result = await session.scanHost({ address: pendingHost.ip, foundBy: pendingHost.found_by as HostResult['foundBy'], openPorts: [], services: [] });
        const known = byIp.get(pendingHost.ip);
        const record: HostRecord = {
          ip: pendingHost.ip,
          mac: known?.mac ?? null,
          hostname: known?.hostnames[0] ?? null,
          manufacturer: known?.vendor ?? null,
          randomized_mac: known?.randomized_mac ?? false,
          role: 'host',
          sources: [
            ...new Set([
              ...(known?.sources ?? []).map((source) => tableTags[source.table] ?? 'arp'),
              ...(result.foundBy === 'known-alive' ? [] : (['sweep'] as const)),
            ]),
          ],
          found_by: result.foundBy,
          services: result.services.map(serviceRecord),
        };
        const cve = deps.cve;
        const findings = cve ? timed('cve', () => findingsForHost(record, cve, scan)) : [];
        writer.add(record, findings);
        done += 1;
        const warnings = findings.filter((finding) => finding.warning).length;
        if (findings.length > 0)
          event(
            `${record.ip}${record.mac ? ` (${record.mac})` : ''}: ${findings.length} CVEs, ${warnings} at or above ${scan.warning_threshold}`,
            warnings > 0 ? 'warning' : 'info',
          );
        progress('hosts', done / Math.max(1, total), total, done);
      });
      writer.flush();
      signal.throwIfAborted();
      lap('hosts');

      // 4. The router and its MikroTik neighbors, judged by the versions the router reported.
      if (inventory && siteWide) {
        const devices = routerDevices(inventory, scan.subnets);
        for (const device of devices) {
          const findings = deps.cve ? findingsForHost(device, deps.cve, scan) : [];
          scans.completeHost(scan, device, findings, now());
          if (findings.length > 0)
            event(
              `${device.role === 'router' ? 'Router' : 'Neighbor'} ${device.hostname ?? device.ip} RouterOS ${device.services[0]?.version ?? '?'}: ${findings.length} CVEs`,
              'warning',
            );
        }
        progress('router', 1, total, done);
      }
      lap('router');
      timings.total = performance.now() - startedAt;
      const ms = (value: number) => `${Math.round(value)} ms`;
      event(
        `Stages: inventory ${ms(timings.inventory)}, discovery ${ms(timings.discovery)}, hosts ${ms(timings.hosts)} (CVE matching ${ms(timings.cve)}, storage ${ms(timings.storage)}), router and neighbors ${ms(timings.router)}`,
      );
      deps.onTimings?.(scan.id, timings);

      event('Scan completed');
      scans.finish(scan.id, 'completed', null, now());
    } catch (error) {
      flushWrites();
      if (callerSignal.aborted && !(callerSignal.reason instanceof StopRequest)) {
        // The agent is shutting down, not the scan being stopped: leave it to resume at the next start.
        event('Agent stopping: scan paused, it resumes when the agent starts again', 'warning');
      } else if (callerSignal.aborted) {
        const kept = scans.hostsByState(scan.id, 'done').length;
        const status = kept > 0 ? 'partial' : 'failed';
        event(`Scan stopped on request; ${kept} hosts done were kept`, 'warning');
        scans.finish(scan.id, status, 'stopped on request', now());
      } else if (error instanceof SiteFailure) {
        event(error.message, 'error');
        scans.finish(scan.id, 'failed', error.message, now());
      } else {
        const message = error instanceof Error ? error.message : String(error);
        log.error({ err: error }, 'scan failed');
        event(`Scan failed: ${message}`, 'error');
        scans.finish(scan.id, scans.hostsByState(scan.id, 'done').length > 0 ? 'partial' : 'failed', message, now());
      }
    } finally {
      unlink();
    }
    return scans.get(scan.id) as ScanRow;
  }

  return { create, run };
}

export type ScanRunner = ReturnType<typeof createScanRunner>;

type HostWrite = { host: HostRecord; findings: StoredFinding[] };

/**
 * Hosts with something to report are written at once, each in its own transaction. Hosts
 * with nothing (most addresses of a sweep) are written in batches: one fsync for up to 64 of
 * them or 250 ms, since losing them to a power cut only means probing them again.
 */
function hostWriter(write: (batch: HostWrite[]) => void) {
  let queue: HostWrite[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    write(batch);
  };
  return {
    add(host: HostRecord, findings: StoredFinding[]) {
      queue.push({ host, findings });
      if (host.services.length > 0 || findings.length > 0 || queue.length >= 64) flush();
      else timer ??= setTimeout(flush, 250);
    },
    flush,
  };
}

/** The abort reason of a stop request (API, CLI Ctrl-C): the scan ends partial, unlike a shutdown, which pauses it. */
export class StopRequest extends Error {
  constructor(message = 'stopped on request') {
    super(message);
    this.name = 'StopRequest';
  }
}

/** The site cannot be scanned as asked (e.g. its router is offline and the schedule does not allow going on). */
class SiteFailure extends Error {}

/** The router itself and each RouterOS neighbor as hosts with their RouterOS CPE: judged without a probe. */
function routerDevices(inventory: Inventory, subnets: readonly string[]): HostRecord[] {
  const devices: HostRecord[] = [];
  const own = inventory.addresses.map((address) => address.address.split('/')[0] as string).find((ip) => inScope(ip, subnets));
  const routerVersion = inventory.router.version;
  if (own) {
    devices.push({
      ip: own,
      mac: null,
      hostname: inventory.router.identity,
      manufacturer: 'MikroTik',
      randomized_mac: false,
      role: 'router',
      sources: ['neighbor'],
      found_by: 'router',
      services: [routerService(routerVersion, inventory.router.channel, `/system/resource: version ${routerVersion}`)],
    });
  }
  for (const neighbor of inventory.neighbors) {
    // Only RouterOS neighbors with a readable version; others are judged by a scan.
    const release = neighbor.platform === 'MikroTik' ? parseRouterOsVersion(neighbor.version ?? undefined) : undefined;
    if (release === undefined || neighbor.address === null || !isCanonicalIPv4(neighbor.address)) continue;
    if (devices.some((device) => device.ip === neighbor.address)) continue;
    devices.push({
      ip: neighbor.address,
      mac: neighbor.mac,
      hostname: neighbor.identity,
      manufacturer: 'MikroTik',
      randomized_mac: false,
      role: 'neighbor',
      sources: ['neighbor'],
      found_by: 'router',
      services: [
        routerService(
          release.display,
          release.channel ?? null,
          `/ip/neighbor: ${neighbor.identity ?? ''} ${neighbor.platform ?? ''} ${neighbor.version ?? ''}`.trim(),
        ),
      ],
    });
  }
  return devices;
}

function routerService(version: string, channel: string | null, evidence: string): ServiceRecord {
  return {
    port: null,
    protocol: null,
    service: 'routeros',
    product: 'RouterOS',
    vendor: 'mikrotik',
    version,
    update: null,
    channel,
    distro: null,
    cpe: serviceCpe({ product: 'RouterOS', version, channel: channel ?? undefined }),
    confidence: 90,
    evidence,
  };
}

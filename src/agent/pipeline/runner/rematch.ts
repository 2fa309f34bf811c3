import type { Logger } from 'pino';
import type { Clock } from '../../../shared/clock.js';
import { inScope } from '../../../shared/ipv4.js';
import { findingsForHost, type CveLookup } from '../cve-findings.js';
import type { ExposureLookup } from '../exposure-facts.js';
import type { ScanRepository, StoredDevice, StoredFindingRef } from '../scan-repository.js';
import type { FindingExposure, HostRecord, RunNotes, ScanRow } from '../scan-types.js';
import { openRunContext, type RunContext } from './context.js';
import { classifyEnd, settleRun } from './outcome.js';

export interface RematchRunnerDeps {
  scans: ScanRepository;
  clock: Clock;
  logger: Logger;
  /** Absent when no CVE database is loaded: the run fails, saying so (there is nothing to re-judge against). */
  cve?: CveLookup;
  cveData?: () => RunNotes['cve_data'];
  /** Devices re-judged and written per transaction; the event loop breathes between groups. */
  groupSize?: number;
}

/** Said in every re-match report's coverage: what such a run did not look at. */
export const rematchNote =
  'a re-match sends no packet and does not read the router: each device is judged on the services, RouterOS version and exposure the scan that last saw it recorded';

/** Devices whose findings changed that get an event of their own; the rest are counted in one. */
const deviceEventsMax = 100;

const noExposure = 'the scan that last saw this device recorded no exposure for this port';

/**
 * The exposure a device had where its findings sit, as the scan that saw it read the router; a
 * place without a finding then is unknown (nothing was recorded for it), never "no".
 */
function recordedExposure(findings: readonly StoredFindingRef[]): ExposureLookup {
  const byPlace = new Map<string, FindingExposure>();
  for (const finding of findings) {
    const place = `${finding.port ?? '-'}/${finding.protocol ?? '-'}`;
    if (byPlace.has(place)) continue;
    byPlace.set(place, {
      state: finding.exposure,
      reasons: JSON.parse(finding.exposure_reasons) as FindingExposure['reasons'],
      unknown_reason: finding.exposure_unknown,
    });
  }
  return (place) => byPlace.get(`${place.port ?? '-'}/${place.protocol ?? '-'}`) ?? { state: 'unknown', reasons: [], unknown_reason: noExposure };
}

/** The device as a host record again, marked as re-judged from its stored row. */
function rematchRecord(device: StoredDevice, scans: ScanRepository): HostRecord {
  return {
    ip: device.ip,
    mac: device.mac,
    hostname: device.hostname,
    manufacturer: device.manufacturer,
    randomized_mac: device.randomized_mac,
    role: device.role,
    sources: device.sources,
    found_by: 're-match',
    services: scans.storedServices(device.id),
    rematch: { of: device.id, min_cvss: device.min_cvss, warning_threshold: device.warning_threshold },
  };
}

/** The CVEs a report counts as vulnerabilities of a device: the distribution-patched ones (fixed, not affected) are listed apart. */
const openCves = (findings: readonly { cve_id: string; distro_status: string | null }[]) =>
  new Set(findings.filter((finding) => finding.distro_status !== 'fixed' && finding.distro_status !== 'not-affected').map((finding) => finding.cve_id));

/**
 * The lookup with its matcher's answers kept for the run: a site's devices share their services
 * (the same camera firmware on forty cameras), and the CVE data does not change within a run.
 */
function memoized(lookup: CveLookup): CveLookup {
  const answers = new Map<string, ReturnType<CveLookup['matcher']['matchCpe']>>();
  const matchCpe: CveLookup['matcher']['matchCpe'] = (cpe, context = {}) => {
    const key = `${cpe}\n${JSON.stringify(context)}`;
    let found = answers.get(key);
    if (found === undefined) {
      found = lookup.matcher.matchCpe(cpe, context);
      answers.set(key, found);
    }
    return found;
  };
  return { ...lookup, matcher: { ...lookup.matcher, matchCpe } };
}

/**
 * Runs a stored scan of origin 're-match': every stored device within the run's subnets (or targets)
 * judged again, from its latest stored record, against the CVE data as it is now, with the same
 * matcher, distribution verdicts and thresholds as a scan. No scanner, no router read: nothing
 * is sent on the network. Each device is written with its current findings (none included), so
 * the control plane sees what closed, and the report's delta compares each device with the
 * record it was judged from. A run cut short resumes with the devices not yet written.
 */
export function createRematchRunner(deps: RematchRunnerDeps) {
  const { scans } = deps;
  const groupSize = deps.groupSize ?? 100;

  async function run(scanId: string, callerSignal: AbortSignal): Promise<ScanRow> {
    const scan = scans.get(scanId);
    if (!scan) throw new Error(`no scan ${scanId}`);
    const ctx = openRunContext(scan, deps, callerSignal);
    try {
      const done = new Set(scans.hostsByState(scan.id, 'done').map((host) => host.ip));
      const resumed = scan.status === 'scanning';
      scans.start(scan.id, ctx.now());
      const devices = scans.latestDevices().filter((device) => inScope(device.ip, scan.target_ips ?? scan.subnets));
      const total = devices.length;
      scans.addNotes(scan.id, {
        cve_data: deps.cve ? deps.cveData?.() : null,
        router: { state: 'not_read', judged: false, reason: rematchNote },
        devices: [],
        warnings: [rematchNote],
      });
      ctx.event(
        resumed
          ? `Resuming re-match after a restart (${done.size} of ${total} devices already done)`
          : `Re-match started (${scan.trigger ?? 'new CVE data'}): ${total} devices from stored scans against the CVE data as it is now; no packet is sent`,
      );
      if (!deps.cve) throw new Error('no CVE data is loaded: nothing to re-match against');
      const lookup = memoized(deps.cve);
      const tally = { done: done.size, added: 0, closed: 0, changed: 0 };
      ctx.progress('rematch', tally.done / Math.max(1, total), total, tally.done);
      const pending = devices.filter((device) => !done.has(device.ip));
      for (let at = 0; at < pending.length; at += groupSize) {
        ctx.signal.throwIfAborted();
        const batch = pending.slice(at, at + groupSize).map((device) => judge(ctx, device, lookup, tally));
        ctx.timings.findings += ctx.timed('storage', () => scans.completeHosts(scan, batch, ctx.now())).findingsAdded;
        tally.done += batch.length;
        ctx.progress('rematch', tally.done / Math.max(1, total), total, tally.done);
        // A large site's re-match must not hold the daemon's event loop (uplink, scheduler) for its whole length.
        await new Promise((resolve) => setImmediate(resolve));
      }
      ctx.signal.throwIfAborted();
      ctx.lap('rematch');
      if (tally.changed > deviceEventsMax)
        ctx.event(`${tally.changed - deviceEventsMax} more devices changed (the report's delta lists every one)`, tally.added > 0 ? 'warning' : 'info');
      ctx.event(
        `Re-match completed: ${total} devices re-judged in ${Math.round(ctx.timings.rematch)} ms (CVE matching ${Math.round(ctx.timings.cve)} ms, storage ${Math.round(ctx.timings.storage)} ms): ${tally.changed} changed, ${tally.added} new findings, ${tally.closed} closed`,
      );
      scans.finish(scan.id, 'completed', null, ctx.now());
    } catch (error) {
      settleRun(ctx, classifyEnd(error, callerSignal, scans.hostsByState(scan.id, 'done').length), error);
    } finally {
      ctx.close();
    }
    return scans.get(scanId) as ScanRow;
  }

  /** One device: its findings now, and an event when they differ from those it was stored with. */
  function judge(ctx: RunContext, device: StoredDevice, lookup: CveLookup, tally: { added: number; closed: number; changed: number }) {
    const host = rematchRecord(device, scans);
    const before = scans.storedFindings(device.id);
    const findings = ctx.timed('cve', () =>
      findingsForHost(
        host,
        lookup,
        { min_cvss: device.min_cvss, warning_threshold: device.warning_threshold, subnets: device.subnets },
        recordedExposure(before),
      ),
    );
    const was = openCves(before);
    const now = openCves(findings.map((finding) => ({ cve_id: finding.cve_id, distro_status: finding.distro?.status ?? null })));
    const added = [...now].filter((cve) => !was.has(cve));
    const closed = [...was].filter((cve) => !now.has(cve));
    tally.added += added.length;
    tally.closed += closed.length;
    if (added.length > 0 || closed.length > 0) tally.changed += 1;
    // Each event is its own fsync: a new CVE on every device of a large site is said per device for the first ones, then counted.
    if ((added.length > 0 || closed.length > 0) && tally.changed <= deviceEventsMax) {
      const list = (cves: string[]) => `${cves.slice(0, 10).join(', ')}${cves.length > 10 ? ` and ${cves.length - 10} more` : ''}`;
      ctx.event(
        `${device.ip}${device.mac ? ` (${device.mac})` : ''}: ${[added.length > 0 ? `new ${list(added)}` : '', closed.length > 0 ? `closed ${list(closed)}` : ''].filter(Boolean).join('; ')}`,
        added.length > 0 ? 'warning' : 'info',
      );
    }
    return { host, findings };
  }

  return { run };
}

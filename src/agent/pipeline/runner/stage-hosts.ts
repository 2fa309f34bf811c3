import type { InventoryHost } from '../../routeros/index.js';
import { forEachLimited } from '../../scan/limits.js';
import type { ServiceFinding } from '../../scan/service.js';
import type { HostResult, ScanSession } from '../../scan/session.js';
import { serviceCpe } from '../../../cve/services.js';
import { isPatched } from '../../../cve/distro/verdict.js';
import { findingsForHost, type CveLookup } from '../cve-findings.js';
import type { HostRecord, HostSourceTag, ServiceRecord, StoredFinding } from '../scan-types.js';
import type { RunContext } from './context.js';
import type { HostWork } from './stage-discovery.js';
import type { RouterView } from './stage-inventory.js';
import { exposureLookup, isRouterAddress } from '../exposure-facts.js';

const tableTags: Record<string, HostSourceTag> = {
  arp: 'arp',
  'dhcp-lease': 'dhcp',
  'bridge-host': 'bridge',
  neighbor: 'neighbor',
  'ipv6-neighbor': 'neighbor',
};

/** The source tag a router table gives a host. */
export const sourceTag = (table: string): HostSourceTag => tableTags[table] ?? 'arp';

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

/** A probed host as stored: what the probes found, with the MAC, name and vendor the router knows it by. */
export function hostRecord(pending: { ip: string }, result: HostResult, known: InventoryHost | undefined): HostRecord {
  return {
    ip: pending.ip,
    mac: known?.mac ?? null,
    hostname: known?.hostnames[0] ?? null,
    manufacturer: known?.vendor ?? null,
    randomized_mac: known?.randomized_mac ?? false,
    role: 'host',
    sources: [
      ...new Set([...(known?.sources ?? []).map((source) => sourceTag(source.table)), ...(result.foundBy === 'known-alive' ? [] : (['sweep'] as const))]),
    ],
    found_by: result.foundBy,
    services: result.services.map(serviceRecord),
    ...(result.cuts && result.cuts.length > 0 ? { probe_cuts: result.cuts } : {}),
  };
}

/**
 * Stage 3: host by host, ports, services and CVEs, each stored as one unit. `writes.flush` is
 * set so that a run cut short still stores what was probed.
 */
export async function hostsStage(
  ctx: RunContext,
  session: ScanSession,
  router: RouterView,
  work: HostWork,
  deps: { cve: CveLookup | undefined; hostGroup: number },
  writes: { flush: () => void },
): Promise<void> {
  const { scan, scans } = ctx;
  const writer = hostWriter(
    (batch) => {
      ctx.timings.findings += ctx.timed('storage', () => scans.completeHosts(scan, batch, ctx.now())).findingsAdded;
    },
    (error) => ctx.halt(error),
  );
  writes.flush = () => writer.flush();
  await forEachLimited(work.pending, deps.hostGroup, ctx.signal, async (pendingHost) => {
    // The window closed: start no new host (it stays pending); the ones in flight finish.
    if (ctx.drain.aborted) return;
    const result = await session.scanHost({ address: pendingHost.ip, foundBy: pendingHost.found_by as HostResult['foundBy'], openPorts: [], services: [] });
    const record = hostRecord(pendingHost, result, router.byIp.get(pendingHost.ip));
    const cve = deps.cve;
    const exposure = exposureLookup(router.inventory, record.ip, isRouterAddress(router.inventory, record.ip));
    const findings = cve ? ctx.timed('cve', () => findingsForHost(record, cve, scan, exposure)) : [];
    writer.add(record, findings);
    work.done += 1;
    const warnings = findings.filter((finding) => finding.warning).length;
    // Distribution-patched CVEs are stored and listed, not counted as vulnerabilities.
    const open = findings.filter((finding) => !isPatched(finding.distro)).length;
    const patched = findings.length - open;
    if (findings.length > 0)
      ctx.event(
        `${record.ip}${record.mac ? ` (${record.mac})` : ''}: ${open} CVEs, ${warnings} at or above ${scan.warning_threshold}${patched > 0 ? `; ${patched} patched by the distribution` : ''}`,
        warnings > 0 ? 'warning' : 'info',
      );
    ctx.progress('hosts', work.done / Math.max(1, work.total), work.total, work.done);
  });
  writer.flush();
  ctx.signal.throwIfAborted();
  if (ctx.drain.aborted && work.done < work.total) throw ctx.drain.reason;
  ctx.lap('hosts');
}

type HostWrite = { host: HostRecord; findings: StoredFinding[] };

/**
 * Hosts with something to report are written at once, each in its own transaction. Hosts
 * with nothing (most addresses of a sweep) are written in batches: one fsync for up to 64 of
 * them or 250 ms, since losing them to a power cut only means probing them again. A write that
 * fails keeps its batch (the hosts stay pending in the store); one that fails in the timer,
 * where nobody could catch it, goes to `failed`, which ends the run.
 */
function hostWriter(write: (batch: HostWrite[]) => void, failed: (error: unknown) => void) {
  let queue: HostWrite[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      write(batch);
    } catch (error) {
      queue = [...batch, ...queue];
      throw error;
    }
  };
  return {
    add(host: HostRecord, findings: StoredFinding[]) {
      queue.push({ host, findings });
      if (host.services.length > 0 || findings.length > 0 || queue.length >= 64) flush();
      else
        timer ??= setTimeout(() => {
          try {
            flush();
          } catch (error) {
            failed(error);
          }
        }, 250);
    },
    flush,
  };
}

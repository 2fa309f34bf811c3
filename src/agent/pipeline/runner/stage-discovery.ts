import type { HostResult, ScanSession } from '../../scan/session.js';
import type { RunContext } from './context.js';
import type { RouterView } from './stage-inventory.js';

/** The hosts left to probe, and how many the run has in all. */
export interface HostWork {
  pending: { ip: string; found_by: string }[];
  total: number;
  done: number;
}

/** Stage 2: discovery, checkpointed: a resumed scan that got past it does not sweep again. */
export async function discoveryStage(ctx: RunContext, session: ScanSession, router: RouterView): Promise<HostWork> {
  const { scan, scans } = ctx;
  const { knownAlive } = router;
  if (scans.hostsByState(scan.id, 'pending').length + scans.hostsByState(scan.id, 'done').length === 0) {
    ctx.event(`Discovery: ${session.targets.length} addresses, ${knownAlive.length} known to the router`);
    const alive: HostResult[] = [];
    await session.discover(
      (host) => alive.push(host),
      (done) => {
        if (done % 64 === 0) ctx.progress('discovery', done / session.targets.length, knownAlive.length, 0);
      },
    );
    scans.addPendingHosts(
      scan.id,
      alive.map((host) => ({ ip: host.address, found_by: host.foundBy })),
    );
    ctx.event(`Discovery found ${alive.length} live hosts`);
  }
  ctx.lap('discovery');
  const pending = scans.hostsByState(scan.id, 'pending');
  const total = pending.length + scans.hostsByState(scan.id, 'done').length;
  const done = total - pending.length;
  ctx.progress('hosts', done / Math.max(1, total), total, done);
  return { pending, total, done };
}

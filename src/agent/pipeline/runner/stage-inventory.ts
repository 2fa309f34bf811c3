import type { Inventory, InventoryHost } from '../../routeros/index.js';
import { inScope } from '../../../shared/ipv4.js';
import { inventoryReport } from '../inventory-report.js';
import type { RunContext } from './context.js';
import { SiteFailure } from './outcome.js';

/** Reads the site's router; absent for a site without one. */
export type InventoryReader = (signal: AbortSignal) => Promise<Inventory>;

/** What the router told this run: its inventory (if it answered), its hosts by address, and those within the targets. */
export interface RouterView {
  inventory: Inventory | undefined;
  byIp: ReadonlyMap<string, InventoryHost>;
  knownAlive: string[];
}

/** Stage 1: what the router knows. An offline router fails the site unless the schedule says to go on without it. */
export async function inventoryStage(ctx: RunContext, readInventory: InventoryReader | undefined, targets: readonly string[]): Promise<RouterView> {
  const { scan, scans } = ctx;
  ctx.progress('inventory', 0, null, 0);
  let inventory: Inventory | undefined;
  if (readInventory) {
    try {
      inventory = await readInventory(ctx.signal);
      reportInventory(ctx, inventory);
      scans.addNotes(scan.id, {
        router: { state: 'read', judged: false, reason: 'the scan ended before the router and its neighbors were judged' },
        devices: [],
        warnings: [],
      });
      ctx.event(
        `Router ${inventory.router.identity ?? '?'} RouterOS ${inventory.router.version}${inventory.router.channel ? ` (${inventory.router.channel})` : ''} over ${inventory.transport}: ${inventory.hosts.length} hosts, ${inventory.neighbors.length} neighbors`,
      );
    } catch (error) {
      ctx.signal.throwIfAborted();
      scans.setRouterState(scan.id, 'offline');
      const reason = error instanceof Error ? error.message : String(error);
      scans.addNotes(scan.id, {
        router: { state: 'unreachable', judged: false, reason: `the router could not be read: ${reason}` },
        devices: [],
        warnings: [`the router and its neighbors were not judged: the router could not be read (${reason})`],
      });
      if (!scan.ignore_offline_sites) throw new SiteFailure(`router unreachable: ${reason}`);
      ctx.event(`Router unreachable (${reason}); scanning on with the subnet sweep alone`, 'warning');
    }
  } else {
    scans.addNotes(scan.id, {
      router: { state: 'not_configured', judged: false, reason: 'no router is configured for this site' },
      devices: [],
      warnings: ['no router is configured: the router and its MikroTik neighbors were not judged'],
    });
    ctx.event('No router configured: the subnet sweep alone finds hosts', 'warning');
  }
  const byIp = new Map<string, InventoryHost>();
  for (const host of inventory?.hosts ?? []) for (const ip of host.ips) byIp.set(ip, host);
  const knownAlive = [...byIp.keys()].filter((ip) => inScope(ip, targets));
  ctx.progress('inventory', 1, knownAlive.length, 0);
  ctx.lap('inventory');
  return { inventory, byIp, knownAlive };
}

/** After each read: the router's inventory goes to the control plane with the run's router state. */
function reportInventory(ctx: RunContext, inventory: Inventory): void {
  const { scan, scans } = ctx;
  try {
    scans.routerRead(scan.id, inventoryReport(inventory, scan, ctx.now()));
  } catch (error) {
    // A report the protocol would refuse is a bug; the scan goes on without it.
    scans.setRouterState(scan.id, 'online');
    ctx.log.error({ err: error }, 'router inventory not reported');
  }
}

import type { Logger } from 'pino';
import type { ControlPlaneConfig } from '../control-plane/config/load.js';
import { createControlPlane, type ControlPlane } from '../control-plane/main.js';
import { openStore } from '../control-plane/store/open.js';
import type { ControlPlaneStore } from '../control-plane/store/types.js';
import { systemClock } from '../shared/clock.js';
import { composeParts, runUntilSignalled } from '../shared/lifecycle.js';
import { createSdNotifier } from '../shared/sd-notify.js';

/**
 * `cve-control-plane serve`: the store, then the control plane, under the lifecycle kit, and
 * systemd told (sd_notify): READY=1 once both are up, WATCHDOG=1 while the slot timer beats,
 * STOPPING=1 as shutdown begins. Resolves to the exit code.
 */
export async function runServe(config: ControlPlaneConfig, logger: Logger, version: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let store: ControlPlaneStore | undefined;
  let controlPlane: ControlPlane | undefined;
  const notifier = createSdNotifier({ env, logger });
  const parts = composeParts(
    [
      { name: 'sd-notify', start: () => undefined, stop: () => notifier.close() },
      {
        name: 'store',
        start: async () => void (store = await openStore(config.store, config.state_dir, logger)),
        stop: () => store?.close(),
      },
      {
        name: 'control plane',
        start: (signal) => {
          controlPlane = createControlPlane({ config, store: store as ControlPlaneStore, clock: systemClock, logger, version });
          return controlPlane.start(signal);
        },
        stop: async () => {
          if ((await controlPlane?.stop()) === 1) throw new Error('a part of the control plane failed to stop');
        },
      },
      {
        // Last to start, so first to stop: STOPPING=1 goes out before anything closes.
        name: 'systemd',
        start: () => {
          const slots = (controlPlane as ControlPlane).slots;
          // A wedged event loop stops the slot timer's beats, and with them the pings: systemd restarts the node.
          notifier.startWatchdog(() => slots.beatAt !== undefined && Date.now() - slots.beatAt < slots.tickMs * 3 + 5000);
          notifier.ready(`serving on ${(controlPlane as ControlPlane).url()}; store ${config.store.engine}`);
        },
        stop: () => {
          notifier.stopWatchdog();
          notifier.stopping();
        },
      },
    ],
    logger,
  );
  return runUntilSignalled(parts, { logger });
}

import type { Logger } from 'pino';
import type { ControlPlaneConfig } from '../control-plane/config/load.js';
import { createControlPlane, type ControlPlane } from '../control-plane/main.js';
import { openStore } from '../control-plane/store/open.js';
import type { ControlPlaneStore } from '../control-plane/store/types.js';
import { systemClock } from '../shared/clock.js';
import { composeParts, runUntilSignalled } from '../shared/lifecycle.js';

/** `cve-control-plane serve`: the store, then the control plane, under the lifecycle kit. Resolves to the exit code. */
export async function runServe(config: ControlPlaneConfig, logger: Logger, version: string): Promise<number> {
  let store: ControlPlaneStore | undefined;
  let controlPlane: ControlPlane | undefined;
  const parts = composeParts(
    [
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
    ],
    logger,
  );
  return runUntilSignalled(parts, { logger });
}

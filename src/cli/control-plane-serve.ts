import type { Logger } from 'pino';
import { systemClock } from '../shared/clock.js';
import type { ControlPlaneConfig } from '../control-plane/config/load.js';
import { createControlPlane } from '../control-plane/main.js';
import { openSqliteStore } from '../control-plane/store/sqlite/index.js';

const shutdownDeadlineMs = 10_000;

/**
 * `cve-control-plane serve`: runs until SIGTERM or SIGINT (a second one is ignored), with a hard
 * deadline in case a part hangs. Resolves to the exit code.
 */
export async function runServe(config: ControlPlaneConfig, logger: Logger, version: string): Promise<number> {
  const store = openSqliteStore({ stateDir: config.state_dir, logger });
  const controlPlane = createControlPlane({ config, store, clock: systemClock, logger, version });
  const startAbort = new AbortController();
  let requested: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => (requested = resolve));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return void logger.warn({ signal }, 'already stopping; signal ignored');
    signalled = true;
    logger.info({ signal }, 'stop requested');
    startAbort.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.fatal({ deadline_ms: shutdownDeadlineMs }, 'stop did not finish in time; exiting');
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    requested?.();
  };
  const onFatal = (error: unknown) => {
    logger.fatal({ err: error }, 'uncaught error; stopping');
    process.exitCode = 70;
    onSignal('SIGTERM');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  try {
    await controlPlane.start(startAbort.signal);
  } catch (error) {
    await controlPlane.stop();
    await store.close();
    if (startAbort.signal.aborted) return 0;
    throw error;
  }
  await stopRequested;
  const code = await controlPlane.stop();
  await store.close();
  return typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : code;
}

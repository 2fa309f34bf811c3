import type { Logger } from 'pino';
import { createAgent } from '../agent/agent.js';
import type { AgentConfig } from '../agent/config/load.js';

/** The hard stop: if a part hangs, the process still exits this long after the first signal. */
const shutdownDeadlineMs = 10_000;

/**
 * `cve-agent run`: starts the agent, then turns signals into its lifecycle. SIGTERM/SIGINT
 * stop it (a second signal is ignored), SIGHUP reloads the config. Resolves to the exit code.
 */
export async function runDaemon(config: AgentConfig, logger: Logger, options: { dataDir?: string }): Promise<number> {
  const agent = createAgent({ config, logger, dataDir: options.dataDir });
  const startAbort = new AbortController();
  let stopRequested: ((signal: NodeJS.Signals) => void) | undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    stopRequested = resolve;
  });
  let signalled = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'already stopping; signal ignored');
      return;
    }
    signalled = true;
    logger.info({ signal }, 'stop requested');
    startAbort.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.fatal({ deadline_ms: shutdownDeadlineMs }, 'stop did not finish in time; exiting');
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    stopRequested?.(signal);
  };
  const onHup = () => {
    agent.reload();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  // A fatal error takes the same way out as a signal, so the store is closed cleanly.
  const onFatal = (error: unknown) => {
    logger.fatal({ err: error }, 'uncaught error; stopping');
    process.exitCode = 70;
    onStop('SIGTERM');
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);

  try {
    await agent.start(startAbort.signal);
  } catch (error) {
    await agent.stop();
    throw error;
  }
  await stopSignal;
  const code = await agent.stop();
  process.off('SIGHUP', onHup);
  return typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : code;
}

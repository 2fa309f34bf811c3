/**
 * The lifecycle kit both daemons run on. A daemon is an ordered list of parts: `start` visits
 * them in order (abortable between parts), `stop` visits the started ones in reverse, each in its
 * own try so one failure never skips the rest, and resolves to an exit code. `runUntilSignalled`
 * turns process signals into that lifecycle.
 */
import type { Logger } from 'pino';

export interface Part {
  name: string;
  start(signal: AbortSignal): void | Promise<void>;
  stop(): void | Promise<void>;
  /** SIGHUP, where the part can take a new config without a restart. */
  reload?(): void;
}

export interface Parts {
  /** Starts each part in order; on failure or abort, stops the ones already started and rethrows. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops the started parts in reverse; idempotent (a second call returns the first call's result). */
  stop(): Promise<number>;
  reload(): void;
}

export function composeParts(parts: readonly Part[], logger: Logger): Parts {
  const started: Part[] = [];
  let stopping: Promise<number> | undefined;

  async function stopAll(): Promise<number> {
    let exitCode = 0;
    for (const part of [...started].reverse()) {
      try {
        await part.stop();
      } catch (error) {
        exitCode = 1;
        logger.error({ err: error, part: part.name }, 'part failed to stop');
      }
    }
    started.length = 0;
    return exitCode;
  }

  return {
    async start(signal = new AbortController().signal) {
      for (const part of parts) {
        signal.throwIfAborted();
        started.push(part);
        await part.start(signal);
      }
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
    reload() {
      for (const part of started) part.reload?.();
    },
  };
}

export interface Daemon {
  start(signal: AbortSignal): Promise<void>;
  /** Resolves to the exit code: 0, or non-zero if a part failed to stop. */
  stop(): Promise<number>;
  /** SIGHUP; a daemon without it ignores the signal (logged). */
  reload?(): void;
}

/** What the kit needs of `process`: its signals and events, and exit. */
export interface SignalSource {
  on(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- signal listeners take any arguments
  off(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- signal listeners take any arguments
  exit(code?: number): void;
}

export interface RunOptions {
  logger: Logger;
  /** The hard stop: if a part hangs, the process still exits this long after the first signal. */
  deadlineMs?: number;
  /** The exit code of a fatal error (an uncaught exception or rejection): EX_SOFTWARE. */
  fatalExitCode?: number;
  /** The process to listen on; tests pass an EventEmitter. */
  proc?: SignalSource;
}

/**
 * Starts the daemon and runs it until SIGTERM or SIGINT (a second signal is ignored), reloading
 * on SIGHUP where the daemon can. A fatal error takes the same way out as a signal, so stores
 * close cleanly, and sets the exit code. Resolves to the exit code; a start that fails stops what
 * started and rethrows (a start cut short by a signal resolves to 0).
 */
export async function runUntilSignalled(daemon: Daemon, options: RunOptions): Promise<number> {
  const { logger } = options;
  const proc: SignalSource = options.proc ?? process;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const startAbort = new AbortController();
  let fatalCode: number | undefined;
  let requested: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => (requested = resolve));
  let signalled = false;

  const onStop = (signal: NodeJS.Signals) => {
    if (signalled) return void logger.warn({ signal }, 'already stopping; signal ignored');
    signalled = true;
    logger.info({ signal }, 'stop requested');
    startAbort.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.fatal({ deadline_ms: deadlineMs }, 'stop did not finish in time; exiting');
      proc.exit(1);
    }, deadlineMs).unref();
    requested?.();
  };
  const onHup = () => {
    if (daemon.reload) daemon.reload();
    else logger.info('SIGHUP ignored: nothing to reload');
  };
  const onFatal = (error: unknown) => {
    logger.fatal({ err: error }, 'uncaught error; stopping');
    fatalCode = options.fatalExitCode ?? 70;
    onStop('SIGTERM');
  };
  proc.on('SIGTERM', onStop);
  proc.on('SIGINT', onStop);
  proc.on('SIGHUP', onHup);
  proc.on('uncaughtException', onFatal);
  proc.on('unhandledRejection', onFatal);
  try {
    try {
      await daemon.start(startAbort.signal);
    } catch (error) {
      await daemon.stop();
      if (startAbort.signal.aborted && fatalCode === undefined) return 0;
      throw error;
    }
    await stopRequested;
    const code = await daemon.stop();
    return fatalCode ?? code;
  } finally {
    proc.off('SIGHUP', onHup);
    proc.off('SIGTERM', onStop);
    proc.off('SIGINT', onStop);
  }
}

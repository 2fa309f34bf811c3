import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';

// Why unix-dgram and not the npm `systemd-notify` package: that one spawns the
// `systemd-notify` binary, so each message comes from a short-lived child PID that systemd
// may fail to attribute to the service (and NotifyAccess=main drops it outright), and it has
// no watchdog support. unix-dgram sends from this process, so the unit keeps
// NotifyAccess=main.

/** The sd_notify(3) messages a daemon (the agent, the control plane) sends to systemd. Never throws. */
export interface SdNotifier {
  /** True while NOTIFY_SOCKET names a socket this process can send to. */
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC in ms when systemd expects pings from this process, else null. */
  readonly watchdogIntervalMs: number | null;
  /** `READY=1`, with `STATUS=` in the same datagram when given. Call once startup is done. */
  ready(status?: string): void;
  /** `STATUS=` for `systemctl status`. */
  status(text: string): void;
  /** `STOPPING=1`, with `STATUS=` in the same datagram when given. */
  stopping(status?: string): void;
  /**
   * Sends `WATCHDOG=1` now and every `watchdogIntervalMs`, each time only if `isAlive()`
   * returns true: pass a check that proves the scheduler ticked recently, so a wedged
   * daemon stops pinging and systemd restarts it.
   */
  startWatchdog(isAlive: () => boolean): void;
  stopWatchdog(): void;
  close(): void;
}

export interface SdNotifierDeps {
  env?: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): void;
}

interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

// unix-dgram 2.0.7 copies the path with strncpy into a sockaddr_un passed at full size, so
// a name longer than this is silently truncated to another path.
const MAX_SOCKET_PATH_BYTES = 107;

export function createSdNotifier({ env = process.env, logger }: SdNotifierDeps): SdNotifier {
  const log = logger.child({ component: 'sd-notify' });
  const socketPath = env.NOTIFY_SOCKET ?? '';
  let socket = socketPath === '' ? null : openSocket(socketPath, log);
  const watchdogIntervalMs = socket === null ? null : parseWatchdog(env, log);

  let sendFailed = false;
  let watchdogTimer: NodeJS.Timeout | null = null;

  const send = (message: string): void => {
    if (socket === null) return;
    const buf = Buffer.from(message, 'utf8');
    const onError = (err: Error): void => {
      const fields = { err: describeError(err), socket: socketPath, message: message.split('\n')[0] };
      if (sendFailed) {
        log.debug(fields, 'sd_notify send failed again');
        return;
      }
      sendFailed = true;
      log.warn(fields, 'sd_notify send failed; systemd will not see this state (further failures logged at debug)');
    };
    try {
      socket.send(buf, 0, buf.length, socketPath, (err) => {
        if (err) onError(err);
      });
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  };

  const stopWatchdog = (): void => {
    if (watchdogTimer !== null) clearInterval(watchdogTimer);
    watchdogTimer = null;
  };

  return {
    get enabled() {
      return socket !== null;
    },
    watchdogIntervalMs,
    ready(status) {
      send(status === undefined ? 'READY=1' : `READY=1\n${statusLine(status)}`);
    },
    status(text) {
      send(statusLine(text));
    },
    stopping(status) {
      send(status === undefined ? 'STOPPING=1' : `STOPPING=1\n${statusLine(status)}`);
    },
    startWatchdog(isAlive) {
      stopWatchdog();
      if (watchdogIntervalMs === null || socket === null) return;
      let withholding = false;
      const tick = (): void => {
        let alive = false;
        try {
          alive = isAlive() === true;
        } catch (err) {
          log.debug({ err: describeError(err) }, 'watchdog liveness check threw; treated as not alive');
        }
        if (alive) {
          if (withholding) log.info('liveness check passes again; resuming WATCHDOG=1');
          withholding = false;
          send('WATCHDOG=1');
        } else if (!withholding) {
          withholding = true;
          log.warn({ watchdogIntervalMs }, 'liveness check failed; withholding WATCHDOG=1 so systemd restarts the daemon if it stays stuck');
        }
      };
      tick();
      watchdogTimer = setInterval(tick, watchdogIntervalMs);
      // The ping must never be what keeps the process alive during shutdown.
      watchdogTimer.unref();
    },
    stopWatchdog,
    close() {
      stopWatchdog();
      if (socket === null) return;
      try {
        socket.close();
      } catch (err) {
        log.debug({ err: describeError(err) }, 'closing the sd_notify socket failed');
      }
      socket = null;
    },
  };
}

function openSocket(path: string, log: Logger): UnixDgramSocket | null {
  if (path.startsWith('@')) {
    // unix-dgram 2.0.7 strncpy()s the path, so a leading NUL empties it and the datagram
    // goes to the wrong abstract name (ECONNREFUSED); "@name" would be a file path
    // (ENOENT). Upstream PR bnoordhuis/node-unix-dgram#36 (memcpy + length) is unmerged.
    // systemd itself uses /run/systemd/notify; abstract names come from older managers.
    log.warn({ socket: path }, 'NOTIFY_SOCKET is an abstract socket, which unix-dgram cannot address; sd_notify disabled');
    return null;
  }
  if (!path.startsWith('/')) {
    // e.g. vsock:CID:PORT (systemd 253+), which the unit's RestrictAddressFamilies forbids.
    log.warn({ socket: path }, 'NOTIFY_SOCKET is not a unix socket path; sd_notify disabled');
    return null;
  }
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    log.warn({ socket: path }, 'NOTIFY_SOCKET path is longer than a sockaddr_un holds; sd_notify disabled');
    return null;
  }
  try {
    // Loaded lazily so that a missing or broken native build only matters under systemd.
    const requireCjs = createRequire(import.meta.url);
    const { createSocket } = requireCjs('unix-dgram') as UnixDgramModule;
    const sock = createSocket('unix_dgram');
    // send() reports through its callback; this listener keeps a stray 'error' event from
    // becoming an uncaught exception.
    sock.on('error', (err) => log.debug({ err: describeError(err) }, 'sd_notify socket error'));
    return sock;
  } catch (err) {
    log.warn({ err: describeError(err) }, 'cannot open a unix datagram socket; sd_notify disabled');
    return null;
  }
}

function parseWatchdog(env: Readonly<Record<string, string | undefined>>, log: Logger): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return null;
  const watchdogPid = env.WATCHDOG_PID;
  // A WATCHDOG_PID for another process means the variables were inherited from a parent
  // that systemd supervises; pinging for it would keep a hung parent alive.
  if (watchdogPid !== undefined && watchdogPid !== '' && watchdogPid !== String(process.pid)) {
    log.debug({ watchdogPid, pid: process.pid }, 'WATCHDOG_PID names another process; not pinging');
    return null;
  }
  if (!/^\d+$/.test(usec) || Number(usec) === 0) {
    log.warn({ WATCHDOG_USEC: usec }, 'WATCHDOG_USEC is not a positive integer; watchdog disabled');
    return null;
  }
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

// A newline inside the text would start a new assignment, e.g. a forged READY=1.
function statusLine(text: string): string {
  return `STATUS=${String(text).replace(/[\r\n]+/g, ' ')}`;
}

// unix-dgram reports `send -2`; operators read ENOENT faster than -2.
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'number' && code < 0) {
    const name = Object.entries(osConstants.errno).find(([, value]) => value === -code)?.[0];
    if (name !== undefined) return `${err.message.replace(/-?\d+$/, '').trim()} ${name}`;
  }
  return err.message;
}

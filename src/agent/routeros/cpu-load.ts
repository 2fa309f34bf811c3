import { RouterOsApiClient, type ApiClientOptions } from './api/api-client.js';
import { routerError, type RouterTarget } from './router-errors.js';
import { consoleError, consoleLines } from './ssh/console-text.js';
import { consoleCommands, rowsFromConsole } from './ssh/console-menus.js';
import { RouterOsSshClient, type SshClientOptions } from './ssh/ssh-client.js';
import { menus } from './tables.js';

/**
 * The router's CPU load (`/system/resource` `cpu-load`, percent), read again and again while a
 * scan runs: one session is kept open between reads (a login, let alone an SSH handshake, every
 * few seconds would itself load the router), and a failed one is closed and opened anew on the
 * next read.
 */
export interface CpuLoadReader {
  /** Percent, 0..100; a typed AGENT_ERR_ROUTER_* error or the abort reason. */
  read(signal: AbortSignal): Promise<number>;
  close(): void;
}

/** One open session that can answer "how busy are you". */
export interface LoadSession {
  connect(signal: AbortSignal): Promise<void>;
  cpuLoad(signal: AbortSignal): Promise<number>;
  close(): void;
}

/** `36`, `36%` or ` 36 %` as the API and the console give it. */
export function parseCpuLoad(value: string | undefined, target: RouterTarget): number {
  const match = /^\s*(\d{1,3})\s*%?\s*$/.exec(value ?? '');
  const load = match ? Number(match[1]) : Number.NaN;
  if (!(load >= 0 && load <= 100))
    throw routerError('AGENT_ERR_ROUTER_PROTOCOL', target, `/system/resource gave no readable cpu-load (${JSON.stringify(value ?? null)})`);
  return load;
}

export function apiLoadSession(options: ApiClientOptions): LoadSession {
  const client = new RouterOsApiClient(options);
  return {
    connect: (signal) => client.connect(signal),
    async cpuLoad(signal) {
      const rows = await client.print(menus.resource, signal, ['cpu-load']);
      return parseCpuLoad(rows[0]?.['cpu-load'], options.target);
    },
    close: () => client.close(),
  };
}

export function sshLoadSession(options: SshClientOptions): LoadSession {
  const client = new RouterOsSshClient(options);
  const command = consoleCommands.resource;
  return {
    connect: (signal) => client.connect(signal),
    async cpuLoad(signal) {
      const text = await client.exec(command, signal);
      const failure = consoleError(consoleLines(text));
      if (failure !== undefined) throw routerError('AGENT_ERR_ROUTER_TRAP', options.target, `${command}: ${failure}`);
      return parseCpuLoad(rowsFromConsole('resource', text)[0]?.['cpu-load'], options.target);
    },
    close: () => client.close(),
  };
}

/**
 * Reads through `open`'s sessions; `fallback` (the SSH one) takes over for good once `useFallback`
 * says the primary's failure calls for it (the API port closed), as the inventory read does.
 */
export function createCpuLoadReader(open: () => LoadSession, fallback?: { open: () => LoadSession; when: (error: unknown) => boolean }): CpuLoadReader {
  let session: LoadSession | undefined;
  let opener = open;
  const connect = async (signal: AbortSignal): Promise<LoadSession> => {
    const fresh = opener();
    try {
      await fresh.connect(signal);
      return fresh;
    } catch (error) {
      fresh.close();
      throw error;
    }
  };
  const drop = () => {
    session?.close();
    session = undefined;
  };
  const readOnce = async (signal: AbortSignal): Promise<number> => {
    try {
      if (session === undefined) {
        try {
          session = await connect(signal);
        } catch (error) {
          if (fallback === undefined || opener === fallback.open || !fallback.when(error)) throw error;
          opener = fallback.open;
          session = await connect(signal);
        }
      }
      return await session.cpuLoad(signal);
    } catch (error) {
      // A failed session is never reused: the next read opens another.
      drop();
      throw error;
    }
  };
  return {
    async read(signal) {
      const kept = session !== undefined;
      try {
        return await readOnce(signal);
      } catch (error) {
        // A kept session may have died while idle (a socket idle timeout, the router restarting its
        // API service): that is no unreadable router until a fresh session fails too.
        if (!kept || signal.aborted) throw error;
        return readOnce(signal);
      }
    },
    close() {
      session?.close();
      session = undefined;
    },
  };
}

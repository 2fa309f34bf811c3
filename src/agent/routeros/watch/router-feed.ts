import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RouterSettings } from '../../config/load.js';
import { AgentError } from '../../errors.js';
import { RouterOsApiClient, type ApiClientOptions, type ApiListen } from '../api/api-client.js';
import { proplists } from '../api/api-reader.js';
import { memoryRouterPins, type RouterPins } from '../router-identity.js';
import { portClosed, sessionOptions } from '../router-source.js';
import { consoleCommands, rowsFromConsole } from '../ssh/console-menus.js';
import { consoleError, consoleLines } from '../ssh/console-text.js';
import { RouterOsSshClient } from '../ssh/ssh-client.js';
import { menus, type Row } from '../tables.js';

/** The tables that say a device appeared or moved. */
export type WatchTable = 'leases' | 'arp' | 'bridgeHosts' | 'neighbors';
export const watchTables: readonly WatchTable[] = ['leases', 'arp', 'bridgeHosts', 'neighbors'];

/** Where the router says its own version and update channel; polled, as nothing streams them. */
const packageUpdateMenu = '/system/package/update';

export type FeedEvent =
  /** The whole table: the first read of a session (a reconnect included) or an SSH poll. */
  | { kind: 'snapshot'; table: WatchTable; rows: Row[] }
  /** One row a `listen` streamed (`.dead: 'yes'` for a removal). */
  | { kind: 'row'; table: WatchTable; row: Row }
  /** /system/resource and /system/package/update (undefined where the router has no such menu). */
  | { kind: 'router'; resource: Row | undefined; update: Row | undefined };

/** One session's worth of following the router; `run` returns only by throwing (session lost, or the abort reason). */
export interface RouterFeed {
  readonly mode: 'listen' | 'poll';
  run(signal: AbortSignal, onEvent: (event: FeedEvent) => void): Promise<never>;
}

export interface RouterFeedDeps {
  settings: RouterSettings;
  logger: Logger;
  pins?: RouterPins;
  /** SSH: how often the tables are read and diffed. */
  pollMs: number;
  /** API: how often /system/resource and /system/package/update are read (also what finds a dead session). */
  versionPollMs: number;
  /** Tests swap the API session. */
  openApi?: (options: ApiClientOptions) => RouterOsApiClient;
}

const isTrap = (error: unknown) => error instanceof AgentError && error.code === 'AGENT_ERR_ROUTER_TRAP';

/**
 * Follows the router's device tables: over the API with `listen` (a `!re` per change, the
 * tables printed once per session as the baseline), over SSH by reading them every `pollMs`.
 * The router's version is polled on both. A menu the router refuses is left out with a warning.
 */
export function createRouterFeed(deps: RouterFeedDeps): RouterFeed {
  const options = sessionOptions(deps, deps.pins ?? memoryRouterPins());
  const log = deps.logger.child({ component: 'router-watch' });
  const api = options.api;
  if (api === undefined) return pollFeed(deps, log, options.ssh(deps.settings.port));
  const open = deps.openApi ?? ((client) => new RouterOsApiClient(client));
  // As a read does: a closed API port is tried over SSH at once (polling, as SSH has no listen).
  const fallback = deps.settings.ssh_fallback ? pollFeed(deps, log, options.ssh(deps.settings.ssh_port)) : undefined;

  return {
    mode: 'listen',
    async run(callerSignal, onEvent) {
      try {
        return await listenOnce(callerSignal, onEvent);
      } catch (error) {
        if (fallback === undefined || !portClosed(error) || callerSignal.aborted) throw error;
        log.warn(
          { host: deps.settings.host, port: deps.settings.port, ssh_port: deps.settings.ssh_port },
          'router API port closed; watching over SSH (polling)',
        );
        return await fallback.run(callerSignal, onEvent);
      }
    },
  };

  async function listenOnce(callerSignal: AbortSignal, onEvent: (event: FeedEvent) => void): Promise<never> {
    const apiOptions = api as NonNullable<typeof api>;
    // The session's commands end with the session, not with the caller: a stop lets the command
    // in flight finish (within its deadline), then cancels each listen, then closes the socket.
    const controller = new AbortController();
    const signal = controller.signal;
    const client = open({ ...apiOptions, logger: log });
    const listens: ApiListen[] = [];
    try {
      await client.connect(callerSignal);
      // Listen first, then print: a change between the two is not lost. Streamed rows wait until their table's print is handed on.
      const held = new Map<WatchTable, Row[]>(watchTables.map((table) => [table, []]));
      const lost = new Promise<never>((_resolve, reject) => {
        for (const table of watchTables) {
          const listen = client.listen(
            menus[table],
            signal,
            (row) => {
              const waiting = held.get(table);
              if (waiting) waiting.push(row);
              else onEvent({ kind: 'row', table, row });
            },
            [...proplists[table], '.id', '.dead'],
          );
          listens.push(listen);
          listen.ended.catch((error: unknown) => {
            if (isTrap(error)) log.warn({ menu: menus[table] }, `${menus[table]}/listen refused; that table is not watched: ${(error as Error).message}`);
            else reject(error);
          });
        }
      });
      lost.catch(() => undefined);
      for (const table of watchTables) {
        let rows: Row[] = [];
        try {
          callerSignal.throwIfAborted();
          rows = await client.print(menus[table], signal, proplists[table]);
        } catch (error) {
          if (!isTrap(error)) throw error;
          log.warn({ menu: menus[table] }, `${menus[table]} refused; that table is not watched`);
        }
        onEvent({ kind: 'snapshot', table, rows });
        for (const row of held.get(table) ?? []) onEvent({ kind: 'row', table, row });
        held.delete(table);
      }
      for (;;) {
        callerSignal.throwIfAborted();
        const [resource] = await client.print(menus.resource, signal, ['version', 'board-name']);
        const update = await client.print(packageUpdateMenu, signal, ['channel', 'installed-version', 'latest-version']).catch((error: unknown) => {
          if (isTrap(error)) return [];
          throw error;
        });
        onEvent({ kind: 'router', resource, update: update[0] });
        await Promise.race([sleep(deps.versionPollMs, undefined, { signal: callerSignal }), lost]);
      }
    } finally {
      // A polite end where the session still stands: each listen cancelled (the router frees it), then the socket closed.
      await Promise.allSettled(listens.map((listen) => listen.cancel(AbortSignal.timeout(2000))));
      controller.abort(new Error('watch session over'));
      client.close();
    }
  }
}

/** SSH has no listen: read the same tables every `pollMs`, one session per read. */
function pollFeed(deps: RouterFeedDeps, log: Logger, ssh: ReturnType<ReturnType<typeof sessionOptions>['ssh']>): RouterFeed {
  return {
    mode: 'poll',
    async run(signal, onEvent) {
      for (;;) {
        const client = new RouterOsSshClient({ ...ssh, logger: log });
        try {
          await client.connect(signal);
          const [resource] = rowsFromConsole('resource', await client.exec(consoleCommands.resource, signal));
          for (const table of watchTables) {
            const text = await client.exec(consoleCommands[table], signal);
            const failure = consoleError(consoleLines(text));
            if (failure !== undefined) log.warn({ command: consoleCommands[table] }, `${consoleCommands[table]}: ${failure}; that table is not watched`);
            onEvent({ kind: 'snapshot', table, rows: failure === undefined ? rowsFromConsole(table, text) : [] });
          }
          onEvent({ kind: 'router', resource, update: undefined });
        } finally {
          client.close();
        }
        await sleep(deps.pollMs, undefined, { signal });
      }
    },
  };
}

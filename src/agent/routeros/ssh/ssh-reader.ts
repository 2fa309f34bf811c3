import type { Logger } from 'pino';
import { routerError } from '../router-errors.js';
import { menus, optionalMenus, type MenuName } from '../tables.js';
import { tablesAndSink, type ReadResult, type RowSink, type TableReader } from '../table-reader.js';
import { consoleError, consoleLines } from './console-text.js';
import { consoleCommands, rowsFromConsole } from './console-menus.js';
import { RouterOsSshClient, type SshClientOptions } from './ssh-client.js';

export interface SshReaderDeps {
  client: Omit<SshClientOptions, 'logger'>;
  logger: Logger;
}

/** Reads every menu over one SSH session, one CLI command after another. */
export function createSshReader(deps: SshReaderDeps): TableReader {
  return {
    transport: 'ssh',
    async read(signal: AbortSignal, sink?: RowSink): Promise<ReadResult> {
      const client = new RouterOsSshClient({ ...deps.client, logger: deps.logger });
      const warnings: string[] = [];
      const { tables, put } = tablesAndSink(sink);
      const missingMenus: MenuName[] = [];
      try {
        await client.connect(signal);
        for (const name of Object.keys(menus) as MenuName[]) {
          const command = consoleCommands[name];
          const text = await client.exec(command, signal);
          const failure = consoleError(consoleLines(text));
          if (failure !== undefined) {
            if (!optionalMenus.has(name)) throw routerError('AGENT_ERR_ROUTER_TRAP', deps.client.target, `${command}: ${failure}`);
            warnings.push(`${command}: ${failure}; table left empty`);
            missingMenus.push(name);
            continue;
          }
          // One command's text at a time: its rows go on, and the text is dropped before the next.
          for (const row of rowsFromConsole(name, text)) put(name, row);
        }
        return { tables, warnings, missingMenus, readAt: new Date().toISOString() };
      } finally {
        client.close();
      }
    },
  };
}

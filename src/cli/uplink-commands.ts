import type { Command } from 'commander';
import { loadConfig } from '../agent/config/load.js';
import { openStore } from '../agent/store/database.js';
import { OutboxRepository } from '../agent/store/outbox-repository.js';
import { readUplinkState } from '../agent/uplink/uplink-state.js';
import { createCliLogger } from './cli-logger.js';

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/** `cve-agent uplink status`: what waits for the control plane, read next to a running daemon (WAL). */
export function registerUplinkCommands(program: Command): void {
  const uplink = program.command('uplink').description('the connection to the control plane');
  uplink
    .command('status')
    .description('the control plane URL, the reports waiting in the outbox and the last seqs acknowledged and applied')
    .action(() => {
      const options = program.opts<GlobalOptions>();
      const { config } = loadConfig(options.config, { dataDir: options.dataDir });
      const store = openStore({ stateDir: config.state_dir, logger: createCliLogger('cve-agent', 'error'), exclusive: false });
      try {
        const state = readUplinkState(store.db);
        const outbox = new OutboxRepository(store.db).summary();
        const status = {
          control_plane: config.control_plane?.url ?? null,
          stream_id: state.streamId,
          outbox_pending: outbox.pending,
          oldest_pending_at: outbox.oldest,
          last_acked_seq: state.lastAckedSeq,
          last_command_seq: state.lastCommandSeq,
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status)}\n`);
          return;
        }
        process.stdout.write(
          [
            `control plane     ${status.control_plane ?? '(none configured: standalone site)'}`,
            `outbox            ${status.outbox_pending} report(s) waiting${status.oldest_pending_at ? `, oldest from ${status.oldest_pending_at}` : ''}`,
            `last acked seq    ${status.last_acked_seq}`,
            `last command seq  ${status.last_command_seq}`,
            `stream            ${status.stream_id ?? '(not connected yet)'}`,
            '',
          ].join('\n'),
        );
      } finally {
        store.close();
      }
    });
}

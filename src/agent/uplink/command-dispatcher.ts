/**
 * Applies the control plane's commands one at a time, in seq order, through a handler table.
 * A command already applied (a replay after a lost ack) is only acknowledged again; a handler
 * that throws gets an error reply naming the command's seq, and the command still counts as
 * applied, so a command that can never succeed is not replayed forever.
 */
import type { Logger } from 'pino';
import type { Command, CommandType } from '../../protocol/index.js';
import type { Db } from '../../shared/sqlite.js';
import type { StorageGate } from '../storage-health.js';
import type { UplinkSession } from './uplink-client.js';
import type { UplinkState } from './uplink-state.js';

export interface CommandContext {
  /** Runs the command's writes in one transaction with the record that it was applied, so a crash never applies it twice. */
  commit<T>(write: () => T): T;
}

/** A handler that refuses a command without failing returns `rejected`: the control plane gets the same error reply as for a throw. */
export type CommandOutcome = void | { rejected: string };

export type CommandHandlers = {
  [T in CommandType]: (command: Extract<Command, { type: T }>, context: CommandContext) => Promise<CommandOutcome> | CommandOutcome;
};

export interface CommandDispatcherDeps {
  db: Db;
  state: UplinkState;
  handlers: CommandHandlers;
  logger: Logger;
  /** Aborted when the agent stops: a command it interrupts is neither recorded nor acknowledged, so it comes again. */
  shutdown?: AbortSignal;
  /**
   * While storage is failing no command is applied: it waits, in order, until storage recovers.
   * A command whose writes fail on a full disk wrote nothing (one transaction) and is applied
   * again then, so a scan invoked meanwhile starts late rather than never.
   */
  storage?: StorageGate;
}

export class CommandDispatcher {
  readonly #deps: CommandDispatcherDeps;
  readonly #log: Logger;
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: CommandDispatcherDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'uplink-commands' });
  }

  /** Queues the command behind those received before it; the ack goes to the session it came on. */
  receive(command: Command, session: UplinkSession): void {
    this.#chain = this.#chain.then(() => this.#apply(command, session));
  }

  /** Resolves once every command received so far is applied. */
  idle(): Promise<void> {
    return this.#chain;
  }

  async #apply(command: Command, session: UplinkSession): Promise<void> {
    const { state } = this.#deps;
    if (command.seq <= state.lastCommandSeq) {
      session.send({ type: 'ack', seq: state.lastCommandSeq });
      return;
    }
    const storage = this.#deps.storage;
    for (;;) {
      // Said whether storage failed before the command came or under its own writes.
      if (storage?.failing === true) this.#held(command);
      await storage?.whenWritable(this.#deps.shutdown);
      if (this.#deps.shutdown?.aborted) return;
      const applied = await this.#applyOnce(command, session);
      if (applied) return;
    }
  }

  #held(command: Command): void {
    this.#log.warn({ type: command.type, seq: command.seq }, 'command held until storage recovers; it is applied then');
  }

  /** False when the command's writes failed on failing storage (nothing was applied, and it must be tried again). */
  async #applyOnce(command: Command, session: UplinkSession): Promise<boolean> {
    const { state, db } = this.#deps;
    const context: CommandContext = {
      commit: (write) =>
        db.transaction(() => {
          const result = write();
          state.setLastCommand(command.seq);
          return result;
        })(),
    };
    try {
      const handler = this.#deps.handlers[command.type] as (command: Command, context: CommandContext) => Promise<CommandOutcome> | CommandOutcome;
      const outcome = await handler(command, context);
      if (outcome?.rejected !== undefined) this.#reject(command, session, outcome.rejected);
      else this.#log.info({ type: command.type, seq: command.seq }, 'command applied');
    } catch (error) {
      if (this.#deps.shutdown?.aborted) {
        this.#log.info({ type: command.type, seq: command.seq }, 'command interrupted by the shutdown; the control plane sends it again at the next start');
        return true;
      }
      if (this.#deps.storage?.failed(error, `command ${command.type}`) === true) {
        state.resync();
        return false;
      }
      this.#reject(command, session, error instanceof Error ? error.message : String(error), error);
    }
    try {
      state.setLastCommand(command.seq);
    } catch (error) {
      // Not recorded: the ack is withheld, and the command comes again at the next hello.
      state.resync();
      if (this.#deps.storage?.failed(error, 'command record') !== true)
        this.#log.error({ err: error, seq: command.seq }, 'could not record the applied command');
      else this.#log.warn({ seq: command.seq }, 'applied command not recorded on the failing disk; the control plane sends it again at the next hello');
      return true;
    }
    session.send({ type: 'ack', seq: command.seq });
    return true;
  }

  #reject(command: Command, session: UplinkSession, message: string, error?: unknown): void {
    this.#log.error({ err: error, type: command.type, seq: command.seq }, `command refused: ${message}`);
    session.send({ type: 'error', code: 'rejected', message: `${command.type}: ${message}`.slice(0, 1000), seq: command.seq, fatal: false });
  }
}

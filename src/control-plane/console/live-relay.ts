/**
 * The console's live feed across the nodes of a cluster. What one node's publisher produced goes
 * to the others over ClusterSignals, in small batched messages: a scan's move travels as a trigger
 * (the receiving node reads the scan's status and progress from the store itself); events,
 * findings and presence, which are facts of a moment, travel as they are. Each node gives them
 * its own cursors. A node ignores its own messages: it published them already.
 */
import type { Logger } from 'pino';
import type { ClusterSignals } from '../store/types.js';
import { chunkJson, SIGNAL_PAYLOAD_LIMIT } from '../store/signals.js';
import type { LivePayload } from './live-bus.js';

export const LIVE_CHANNEL = 'cp_live';

/** `o`: the organization; then a payload as it is (`p`), or a scan that moved (`s`; `a`: publish even if unchanged). */
export type RelayItem = { o: string; p: Exclude<LivePayload, { type: 'scan' }> } | { o: string; s: string; a?: 1 };

export interface LiveRelayDeps {
  signals: ClusterSignals;
  nodeId: string;
  logger: Logger;
  /** Items another node published, in its order. */
  received: (items: RelayItem[]) => void;
}

export class LiveRelay {
  readonly #deps: LiveRelayDeps;
  #outgoing: RelayItem[] = [];
  #flushing: NodeJS.Immediate | undefined;
  // One flush at a time: a later batch must not overtake the chunks of an earlier one.
  #sending: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: LiveRelayDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#unsubscribe = this.#deps.signals.subscribe(LIVE_CHANNEL, (payload) => this.#receive(payload));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    clearImmediate(this.#flushing);
    this.#queueFlush();
    await this.#sending;
  }

  /** Queues an item for the other nodes; what one turn of the event loop queued goes in as few messages as fit. */
  send(item: RelayItem): void {
    this.#outgoing.push(item);
    this.#flushing ??= setImmediate(() => this.#queueFlush());
  }

  #queueFlush(): void {
    this.#flushing = undefined;
    const items = this.#outgoing;
    this.#outgoing = [];
    if (items.length > 0) this.#sending = this.#sending.then(() => this.#flush(items));
  }

  async #flush(items: RelayItem[]): Promise<void> {
    const { nodeId, signals, logger } = this.#deps;
    const head = `{"n":${JSON.stringify(nodeId)},"m":`;
    const chunks = chunkJson(items, SIGNAL_PAYLOAD_LIMIT - 1 - head.length - 1, () => logger.warn('a live message too big to relay to the other nodes'));
    try {
      for (const chunk of chunks) await signals.publish(LIVE_CHANNEL, `${head}${chunk}}`);
    } catch (error) {
      // The other nodes' consoles miss these; a browser's next page load shows the stored truth.
      logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot relay live messages to the other nodes');
    }
  }

  #receive(payload: string): void {
    let message: { n?: unknown; m?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (message.n === this.#deps.nodeId || !Array.isArray(message.m)) return;
    this.#deps.received((message.m as unknown[]).filter(isRelayItem));
  }
}

const PAYLOAD_TYPES = new Set(['event', 'finding', 'site']);

function isRelayItem(value: unknown): value is RelayItem {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  if (typeof item.o !== 'string') return false;
  if (typeof item.s === 'string') return true;
  const p = item.p as { type?: unknown } | undefined;
  return typeof p === 'object' && p !== null && PAYLOAD_TYPES.has(p.type as string);
}

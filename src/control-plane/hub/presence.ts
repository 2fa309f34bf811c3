/**
 * Which sites' agents are connected to the OTHER nodes of a cluster. Each node tells the others
 * over ClusterSignals when its agents come and go (batched: a reconnect storm is thousands), and
 * repeats its whole list every `refreshMs`; an entry lasts `leaseMs` unless repeated, so a node
 * that died without a word stops counting its sites online after one lease. A node that starts
 * asks the others for their lists. On SQLite (one node) nothing ever comes from elsewhere.
 */
import type { Logger } from 'pino';
import type { ClusterSignals } from '../store/types.js';
import { chunkSiteIds } from '../store/signals.js';

export const PRESENCE_CHANNEL = 'cp_presence';

/** `up`/`down`: sites came or went; `all`: every site of the node (a refresh or an answer); `sync`: send me your `all`. */
type Kind = 'up' | 'down' | 'all' | 'sync';

interface Message {
  n: string;
  k: Kind;
  s: string[];
}

export interface ClusterPresenceDeps {
  signals: ClusterSignals;
  nodeId: string;
  /** The sites whose agents are connected and greeted on this node. */
  local: () => string[];
  refreshMs: number;
  leaseMs: number;
  logger: Logger;
  now?: () => number;
}

// Changes are sent together after this long (a storm of hellos makes a few messages, not thousands).
const BATCH_MS = 50;

export class ClusterPresence {
  readonly #deps: ClusterPresenceDeps;
  readonly #now: () => number;
  /** site → node → lease end (ms). */
  readonly #remote = new Map<string, Map<string, number>>();
  readonly #changes = new Map<string, 'up' | 'down'>();
  #batch: NodeJS.Timeout | undefined;
  // One batch at a time: a later "up" must not overtake an earlier "down" of the same site.
  #sending: Promise<void> = Promise.resolve();
  #refresh: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: ClusterPresenceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  start(): void {
    if (!this.#deps.signals.clustered) return;
    const { signals } = this.#deps;
    const unsubscribe = signals.subscribe(PRESENCE_CHANNEL, (payload) => this.#receive(payload));
    // Asked again once this node listens (PostgreSQL: the answers to a sync sent before would be missed).
    const offListening = signals.onReconnected(() => void this.#send('sync', []));
    this.#unsubscribe = () => {
      unsubscribe();
      offListening();
    };
    void this.#send('sync', []);
    this.#refresh = setInterval(() => {
      this.#prune();
      void this.#send('all', this.#deps.local());
    }, this.#deps.refreshMs);
    this.#refresh.unref();
  }

  /** Sends what is batched (the agents' goodbyes of a stopping node), then stops listening. */
  async stop(): Promise<void> {
    clearInterval(this.#refresh);
    await this.#queueFlush();
    this.#unsubscribe?.();
  }

  /** A site's agent is connected to another node (lease not run out). */
  isOnline(siteId: string): boolean {
    const now = this.#now();
    for (const until of this.#remote.get(siteId)?.values() ?? []) if (until > now) return true;
    return false;
  }

  /** This node's agent of `siteId` came (true) or went (false). */
  changed(siteId: string, online: boolean): void {
    if (!this.#deps.signals.clustered) return;
    this.#changes.set(siteId, online ? 'up' : 'down');
    this.#batch ??= setTimeout(() => void this.#queueFlush(), BATCH_MS);
  }

  #queueFlush(): Promise<void> {
    this.#sending = this.#sending.then(() => this.#flush());
    return this.#sending;
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#batch);
    this.#batch = undefined;
    const up: string[] = [];
    const down: string[] = [];
    for (const [site, change] of this.#changes) (change === 'up' ? up : down).push(site);
    this.#changes.clear();
    await Promise.all([this.#send('up', up), this.#send('down', down)]);
  }

  async #send(kind: Kind, siteIds: string[]): Promise<void> {
    // The envelope's bytes come off the bound of each chunk of site ids.
    const envelope = JSON.stringify({ n: this.#deps.nodeId, k: kind, s: [] }).length;
    try {
      const chunks = kind === 'sync' ? ['[]'] : chunkSiteIds(siteIds, 6900 - envelope);
      for (const chunk of chunks) await this.#deps.signals.publish(PRESENCE_CHANNEL, `{"n":${JSON.stringify(this.#deps.nodeId)},"k":"${kind}","s":${chunk}}`);
    } catch (error) {
      // The lease covers a lost message: the next refresh repeats the truth.
      this.#deps.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot tell the other nodes about agent presence');
    }
  }

  #prune(): void {
    const now = this.#now();
    for (const [site, nodes] of this.#remote) {
      for (const [node, until] of nodes) if (until <= now) nodes.delete(node);
      if (nodes.size === 0) this.#remote.delete(site);
    }
  }

  #receive(payload: string): void {
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (typeof message?.n !== 'string' || message.n === this.#deps.nodeId || !Array.isArray(message.s)) return;
    if (message.k === 'sync') {
      void this.#send('all', this.#deps.local());
      return;
    }
    const until = this.#now() + this.#deps.leaseMs;
    for (const site of message.s) {
      if (typeof site !== 'string') continue;
      let nodes = this.#remote.get(site);
      if (message.k === 'down') {
        nodes?.delete(message.n);
        if (nodes?.size === 0) this.#remote.delete(site);
        continue;
      }
      if (!nodes) {
        nodes = new Map();
        this.#remote.set(site, nodes);
      }
      nodes.set(message.n, until);
    }
  }
}

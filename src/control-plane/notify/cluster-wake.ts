/**
 * "A scan finished, deliveries may be due": the node that saw it wakes its own notifier and
 * tells the others, so whichever node is free sends the webhook at once instead of at its next
 * poll (PostgreSQL's row claims keep two nodes from sending the same delivery).
 */
import type { Logger } from 'pino';
import type { ClusterSignals } from '../store/types.js';

export const NOTIFIER_CHANNEL = 'cp_notifier';

export interface ClusterWake {
  /** Wakes this node's notifier and the other nodes'. */
  wake(): void;
  start(): void;
  stop(): void;
}

export function clusterWake(deps: { signals: ClusterSignals; nodeId: string; wake: () => void; logger: Logger }): ClusterWake {
  let unsubscribe: (() => void) | undefined;
  return {
    wake() {
      deps.wake();
      if (!deps.signals.clustered) return;
      deps.signals.publish(NOTIFIER_CHANNEL, deps.nodeId).catch((error: unknown) => {
        // The other nodes' notifiers find the deliveries at their next poll.
        deps.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot wake the other nodes’ notifiers');
      });
    },
    start() {
      if (!deps.signals.clustered) return;
      unsubscribe = deps.signals.subscribe(NOTIFIER_CHANNEL, (from) => {
        if (from !== deps.nodeId) deps.wake();
      });
    },
    stop() {
      unsubscribe?.();
    },
  };
}

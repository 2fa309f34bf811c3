/** The protocol's major version. A peer speaking another major is refused at hello. */
export const PROTOCOL_VERSION = 1;

/** The WebSocket path agents dial on the control plane. */
export const AGENT_PATH = '/agent/v1';

/** Close codes the two ends use (RFC 6455 section 7.4.1, plus the 4000-4999 private range). */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001,
  /** The frame is not JSON, or does not match its schema. */
  malformed: 1007,
  /** An unknown type, a frame out of order (no hello first), a wrong site or version. */
  policy: 1008,
  tooLarge: 1009,
  internal: 1011,
  /** Another connection of the same site took over. */
  replaced: 4000,
  /** The heartbeat found the peer silent. */
  silent: 4001,
} as const;

/**
 * Heartbeat: the control plane pings every `intervalMs` and, at the same checks, drops a peer
 * silent for more than twice that; a live peer answers each ping, so a dead one is noticed
 * within three intervals (30 s at the default).
 */
export const heartbeat = { intervalMs: 10_000, deadAfterIntervals: 2 } as const;

/** No frame in either direction is larger than this (a feed chunk is 256 KiB of bytes, base64 adds a third). */
export const MAX_FRAME_BYTES = 512 * 1024;
export const FEED_CHUNK_BYTES = 256 * 1024;

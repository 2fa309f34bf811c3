/** Session messages: they open, keep alive, acknowledge and refuse; none of them carries a seq of its own. */
import { z } from 'zod';
import { seq, seqOrZero, text, utcTime, uuid } from '../fields.js';

/**
 * The CVE feed version the agent's cve.db holds (optional, agent -> control plane only, in hello
 * and heartbeats): 0 before the first delta; `data_as_of` is each source's own date for that data.
 * The control plane pushes a catch-up delta to an agent that reports a version older than its newest.
 */
export const agentFeedSchema = z.strictObject({
  version: seqOrZero,
  data_as_of: z.record(text(32), text(64)).refine((map) => Object.keys(map).length <= 16, 'at most 16 sources'),
});

/** Agent -> control plane, the first frame of every connection. */
export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.int().min(1),
  agent_version: text(64),
  site_id: uuid,
  /**
   * The agent's outbox: a new id whenever the agent's database is created, so a site whose
   * database was wiped starts a new sequence instead of having its seqs taken for replays.
   */
  stream_id: uuid,
  /** The highest up seq the agent has seen acknowledged (0 before the first ack). */
  last_acked_seq: seqOrZero,
  /** The highest command seq the agent has applied (0 before the first command). */
  last_command_seq: seqOrZero,
  feed: agentFeedSchema.optional(),
});

/** Control plane -> agent, the answer to hello. */
export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  protocol: z.int().min(1),
  server_version: text(64),
  site_id: uuid,
  /** Every up seq of this stream at or below this is stored: the agent deletes those rows and replays the rest in order. */
  resume_after_seq: seqOrZero,
  heartbeat_interval_ms: z.int().min(1000),
  max_frame_bytes: z.int().min(1024),
});

/**
 * Acknowledges every seq at or below `seq` of the other side's stream: sent by the control plane
 * after the up frames are committed (and so queryable), by the agent after the commands are applied.
 */
export const ackSchema = z.strictObject({
  type: z.literal('ack'),
  seq,
});

/**
 * The agent's storage as it last found it (optional, agent -> control plane only): `failing` while
 * writes fail on a full or failing disk, when the agent starts no scans; sent at once on each
 * change and with every heartbeat while failing. An agent that never sends it is healthy.
 */
export const agentStorageSchema = z.strictObject({
  state: z.enum(['ok', 'failing']),
  /** What failed, e.g. "SQLITE_FULL: database or disk is full (outbox acknowledge)"; null when ok. */
  reason: text(500).nullable(),
  since: utcTime,
});

/** Either side, any time: proves the peer is alive above the WebSocket ping, and is answered in kind. */
export const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  at: utcTime,
  storage: agentStorageSchema.optional(),
  feed: agentFeedSchema.optional(),
});

export const protocolErrorCodes = [
  'malformed_frame',
  'unknown_type',
  'hello_required',
  'hello_repeated',
  'protocol_version_unsupported',
  'site_mismatch',
  'frame_too_large',
  'replaced',
  'unknown_run',
  'rejected',
  'internal',
] as const;

/**
 * Either side. `fatal` frames are followed by a close (1007 malformed, 1008 policy); a non-fatal
 * one names the `seq` it concerns (a frame that could not be applied and was quarantined).
 */
export const protocolErrorSchema = z.strictObject({
  type: z.literal('error'),
  code: z.enum(protocolErrorCodes),
  message: text(1000),
  seq: seq.nullable(),
  fatal: z.boolean(),
});

export type Hello = z.infer<typeof helloSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type AgentStorage = z.infer<typeof agentStorageSchema>;
export type AgentFeed = z.infer<typeof agentFeedSchema>;
export type ProtocolError = z.infer<typeof protocolErrorSchema>;
export type ProtocolErrorCode = (typeof protocolErrorCodes)[number];

/**
 * The frames each direction may carry, and the one way to read a frame: parse, look up its type,
 * validate. A frame that fails says which close code it deserves, so neither end ever throws
 * out of a message handler over a peer's bytes.
 */
import type { z } from 'zod';
import { closeCodes } from './version.js';
import { ackSchema, heartbeatSchema, helloSchema, protocolErrorSchema, welcomeSchema, type ProtocolErrorCode } from './messages/control.js';
import {
  feedFileSchema,
  scanInvokeSchema,
  scanIpsSchema,
  scanStopSchema,
  scheduleDeleteSchema,
  scheduleUpsertSchema,
  vulnMarkSchema,
} from './messages/commands.js';
import { findingSchema, hostSchema, inventorySchema, scanEventSchema, scanFinishedSchema, scanProgressSchema, scanStatusSchema } from './messages/reports.js';

/** Agent -> control plane. */
export const upSchemas = {
  hello: helloSchema,
  ack: ackSchema,
  heartbeat: heartbeatSchema,
  error: protocolErrorSchema,
  'scan.status': scanStatusSchema,
  'scan.progress': scanProgressSchema,
  'scan.event': scanEventSchema,
  host: hostSchema,
  finding: findingSchema,
  'scan.finished': scanFinishedSchema,
  inventory: inventorySchema,
} as const;

/** Control plane -> agent. */
export const downSchemas = {
  welcome: welcomeSchema,
  ack: ackSchema,
  heartbeat: heartbeatSchema,
  error: protocolErrorSchema,
  'schedule.upsert': scheduleUpsertSchema,
  'schedule.delete': scheduleDeleteSchema,
  'scan.invoke': scanInvokeSchema,
  'scan.ips': scanIpsSchema,
  'scan.stop': scanStopSchema,
  'vuln.mark': vulnMarkSchema,
  'feed.file': feedFileSchema,
} as const;

type Infer<M> = { [K in keyof M]: M[K] extends z.ZodType ? z.infer<M[K]> : never }[keyof M];
export type UpFrame = Infer<typeof upSchemas>;
export type DownFrame = Infer<typeof downSchemas>;

/** The up frames that are outbox rows (they carry a seq and are acknowledged). */
export const reportTypes = ['scan.status', 'scan.progress', 'scan.event', 'host', 'finding', 'scan.finished', 'inventory'] as const;
export type ReportType = (typeof reportTypes)[number];
export type Report = Extract<UpFrame, { type: ReportType }>;

/** The down frames that are command rows (they carry a seq and are acknowledged). */
export const commandTypes = ['schedule.upsert', 'schedule.delete', 'scan.invoke', 'scan.ips', 'scan.stop', 'vuln.mark', 'feed.file'] as const;
export type CommandType = (typeof commandTypes)[number];
export type Command = Extract<DownFrame, { type: CommandType }>;

export type DecodeResult<F> =
  | { ok: true; frame: F }
  | { ok: false; code: Extract<ProtocolErrorCode, 'malformed_frame' | 'unknown_type'>; message: string; closeCode: number; seq: number | null };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(frame)'}: ${issue.message}`)
    .join('; ');
}

function decodeWith<M extends Record<string, z.ZodType>>(schemas: M, data: string): DecodeResult<Infer<M>> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, code: 'malformed_frame', message: 'the frame is not JSON', closeCode: closeCodes.malformed, seq: null };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, code: 'malformed_frame', message: 'the frame is not a JSON object with a string "type"', closeCode: closeCodes.malformed, seq: null };
  }
  const { type, seq } = value as { type: string; seq?: unknown };
  const seqOf = typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null;
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema === undefined) {
    return { ok: false, code: 'unknown_type', message: `unknown frame type ${JSON.stringify(type.slice(0, 64))}`, closeCode: closeCodes.policy, seq: seqOf };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      code: 'malformed_frame',
      message: `invalid ${type} frame: ${describeIssues(parsed.error)}`,
      closeCode: closeCodes.malformed,
      seq: seqOf,
    };
  }
  return { ok: true, frame: parsed.data as Infer<M> };
}

/** Reads a frame the control plane received. */
export const decodeUpFrame = (data: string): DecodeResult<UpFrame> => decodeWith(upSchemas, data);

/** Reads a frame the agent received. */
export const decodeDownFrame = (data: string): DecodeResult<DownFrame> => decodeWith(downSchemas, data);

export const isReport = (frame: UpFrame): frame is Report => (reportTypes as readonly string[]).includes(frame.type);
export const isCommand = (frame: DownFrame): frame is Command => (commandTypes as readonly string[]).includes(frame.type);

/**
 * Control plane -> agent. Every command carries the site's command `seq`; the agent applies them
 * in order, acknowledges by seq, and reports in hello the last one it applied, so the control
 * plane replays only what is missing after a reconnect. Applying one twice must be harmless.
 */
import { z } from 'zod';
import { cveId, cvssScore, ipv4, mac, seq, subnet, text, utcTime, uuid } from '../fields.js';
import { justificationSchema, markStatusSchema } from '../../shared/mark-input.js';
import { SCHEDULE_LIMITS, TIME_OF_DAY_PATTERN } from '../../shared/schedule/rules.js';

const command = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.strictObject({ type: z.literal(type), seq, issued_at: utcTime, ...shape });

/** The schedule as this site must arm it: `sites` holds only this site's subnets. */
export const pushedScheduleSchema = z.strictObject({
  id: uuid,
  description: text(SCHEDULE_LIMITS.description),
  day_of_week: z.int().min(0).max(6),
  time_of_day: z.string().regex(TIME_OF_DAY_PATTERN),
  every_n_weeks: z.int().min(2).max(52),
  timezone: text(SCHEDULE_LIMITS.timezone),
  min_cvss: cvssScore,
  warning_threshold: cvssScore,
  ignore_offline_sites: z.boolean(),
  notification_group: text(SCHEDULE_LIMITS.notification_group),
  sites: z
    .array(z.strictObject({ id: uuid, subnet }))
    .min(1)
    .max(SCHEDULE_LIMITS.sites),
  /**
   * The week slots are counted from. Both ends compute the same slots from it, and the agent's
   * reports name the slot, which is how the control plane merges the sites' runs into one scan.
   */
  anchor_at: utcTime,
  updated_at: utcTime,
  /**
   * The local hours its scans may run (src/shared/schedule/window.ts). Optional, and left out when
   * the schedule has none, so an agent before it still takes the schedule.
   */
  window: z
    .strictObject({ start: z.string().regex(TIME_OF_DAY_PATTERN), end: z.string().regex(TIME_OF_DAY_PATTERN) })
    .refine((w) => w.start !== w.end, { error: 'must not end when it starts', path: ['end'] })
    .nullable()
    .optional(),
});

export const scheduleUpsertSchema = command('schedule.upsert', { schedule: pushedScheduleSchema });

export const scheduleDeleteSchema = command('schedule.delete', { schedule_id: uuid });

/** What every scan command names: the control plane's scan and this site's part of it. */
const scanTarget = {
  scan_id: uuid,
  sub_scan_id: uuid,
  schedule_id: uuid,
  /** The site's subnets: the scope guard of the agent admits nothing outside them. */
  subnets: z.array(subnet).min(1),
  min_cvss: cvssScore,
  warning_threshold: cvssScore,
  /** A command replayed after this is not run: the agent reports the sub-scan failed instead. */
  expires_at: utcTime,
};

/** Run the whole schedule's part for this site now. */
export const scanInvokeSchema = command('scan.invoke', scanTarget);

/** Scan only these addresses (one for single-ip, several for multiple-ips), each inside `subnets`. */
export const scanIpsSchema = command('scan.ips', {
  ...scanTarget,
  ips: z.array(ipv4).min(1).max(1024),
  /**
   * Judge the site's router and its MikroTik neighbors too, from the versions the router reports
   * (no packet goes to them). Optional: sent only when true, so an agent before it still takes the command.
   */
  with_router: z.boolean().optional(),
});

/** Stop what runs for the schedule (a scheduled slot or an invoked scan); harmless when nothing runs. */
export const scanStopSchema = command('scan.stop', { schedule_id: uuid, scan_id: uuid.nullable() });

export const cveMarkSchema = z.strictObject({
  id: uuid,
  mac_address: mac,
  cve_id: cveId,
  status: markStatusSchema,
  justification: justificationSchema,
  expiration_date: utcTime.nullable(),
  /** The product and version detected when the mark was made: the mark lapses once they change. */
  product: text(200).nullable(),
  version: text(100).nullable(),
  created_at: utcTime,
});

/** An accepted/mitigated mark, so the agent's local reports and warnings agree with the control plane's. */
export const vulnMarkSchema = command('vuln.mark', { mark: cveMarkSchema });

/** One chunk of a CVE feed file; the agent writes the file once every chunk arrived and the hash matches. */
export const feedFileSchema = command('feed.file', {
  transfer_id: uuid,
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a plain file name'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.int().min(0),
  chunk_index: z.int().min(0),
  chunk_count: z.int().min(1),
  data: z.base64(),
});

export type PushedSchedule = z.infer<typeof pushedScheduleSchema>;
export type ScheduleUpsert = z.infer<typeof scheduleUpsertSchema>;
export type ScheduleDelete = z.infer<typeof scheduleDeleteSchema>;
export type ScanInvoke = z.infer<typeof scanInvokeSchema>;
export type ScanIps = z.infer<typeof scanIpsSchema>;
export type ScanStop = z.infer<typeof scanStopSchema>;
export type CveMark = z.infer<typeof cveMarkSchema>;
export type VulnMark = z.infer<typeof vulnMarkSchema>;
export type FeedFile = z.infer<typeof feedFileSchema>;

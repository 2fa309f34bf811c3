/**
 * The rules of `ScanScheduleWrite` (seed-openapi.yaml and the API README), as one zod schema shared
 * by the agent, the control plane's REST bodies and (its bounds) the protocol.
 */
import { z } from 'zod';
import { subnetProblem } from '../ipv4.js';
import { toFieldErrors, type FieldError } from '../zod-issues.js';
import { zoneNameProblem } from './time-zone.js';

/**
 * The one bound of each free-form field of a schedule: the REST schema below, the control plane's
 * store (migration 003 checks the same numbers; a test keeps them in step) and the protocol's
 * schedule.upsert all refuse past these, so a body the API accepts is one every layer accepts.
 */
export const SCHEDULE_LIMITS = {
  /** Characters of `description`. */
  description: 1000,
  /** Characters of `timezone` (the longest IANA name is about 32). */
  timezone: 64,
  /** Characters of `notification_group`. */
  notification_group: 200,
  /** Entries of `sites` (a site may appear once per subnet). */
  sites: 1000,
} as const;

const atMost = (max: number) => `must be at most ${max} characters`;

export const TIME_OF_DAY_PATTERN = /^([0-1]?[0-9]|2[0-3]):[0-5][0-9]$/;

/** '7:05' -> '07:05'. Throws on anything the API pattern rejects. */
export function normalizeTimeOfDay(time: string): string {
  if (!TIME_OF_DAY_PATTERN.test(time)) throw new RangeError(`not a time of day (HH:mm): ${JSON.stringify(time)}`);
  return time.padStart(5, '0');
}

function checkSubnet(subnet: string, ctx: z.RefinementCtx<string>): void {
  const problem = subnetProblem(subnet);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

const site = z.strictObject({
  id: z.uuid({ error: 'must be a UUID' }),
  subnet: z.string().superRefine(checkSubnet),
});

const timeOfDay = z
  .string()
  .regex(TIME_OF_DAY_PATTERN, 'must be a 24-hour time HH:mm, such as 02:00')
  .overwrite((t) => (TIME_OF_DAY_PATTERN.test(t) ? normalizeTimeOfDay(t) : t));

/**
 * The local hours a schedule's scans may run (src/shared/schedule/window.ts): `end` before `start`
 * spans midnight. Optional: absent means always open; `null` on a write clears it.
 */
export const scanWindowSchema = z
  .strictObject({ start: timeOfDay, end: timeOfDay })
  .refine((w) => w.start !== w.end, { error: 'must not end when it starts: a window needs some hours', path: ['end'] });

const cvss = z.number().min(0, 'must be from 0 to 10').max(10, 'must be from 0 to 10');

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const inCvssRange = (v: unknown): v is number => isNumber(v) && v >= 0 && v <= 10;

export const scanScheduleWriteSchema = z
  .strictObject({
    description: z.string().max(SCHEDULE_LIMITS.description, atMost(SCHEDULE_LIMITS.description)),
    day_of_week: z.int().min(0, 'must be 0 (Sunday) to 6 (Saturday)').max(6, 'must be 0 (Sunday) to 6 (Saturday)'),
    time_of_day: timeOfDay,
    every_n_weeks: z.int().min(2, 'must be from 2 to 52').max(52, 'must be from 2 to 52'),
    timezone: z
      .string()
      .max(SCHEDULE_LIMITS.timezone, atMost(SCHEDULE_LIMITS.timezone))
      .superRefine((tz, ctx) => {
        const problem = zoneNameProblem(tz);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
    min_cvss: cvss,
    warning_threshold: cvss,
    ignore_offline_sites: z.boolean().default(false),
    sites: z
      .array(site)
      .min(1, 'must list at least one site')
      .max(SCHEDULE_LIMITS.sites, `must list at most ${SCHEDULE_LIMITS.sites} sites`)
      .superRefine((sites, ctx) => {
        const seen = new Map<string, number>();
        sites.forEach((s, i) => {
          const key = `${s.id.toLowerCase()} ${s.subnet}`;
          const first = seen.get(key);
          if (first === undefined) seen.set(key, i);
          else ctx.addIssue({ code: 'custom', path: [i, 'subnet'], message: `repeats sites[${first}]: a site may appear again only with a different subnet` });
        });
      }),
    notification_group: z
      .string()
      .max(SCHEDULE_LIMITS.notification_group, atMost(SCHEDULE_LIMITS.notification_group))
      .refine((g) => g.trim() !== '', 'must not be empty'),
    window: scanWindowSchema.nullable().optional(),
  })
  .superRefine(
    (body, ctx) => {
      if (body.min_cvss >= body.warning_threshold) {
        ctx.addIssue({
          code: 'custom',
          path: ['warning_threshold'],
          message: `must be greater than min_cvss (${body.min_cvss}), got ${body.warning_threshold}`,
        });
      }
    },
    // Compare whenever both numbers are sound, even if other fields failed: the caller should see
    // every broken rule at once.
    {
      when: ({ value }) => {
        const v = value as Record<string, unknown> | null;
        return typeof v === 'object' && v !== null && inCvssRange(v.min_cvss) && inCvssRange(v.warning_threshold);
      },
    },
  );

export type ScanScheduleWrite = z.infer<typeof scanScheduleWriteSchema>;

export type { FieldError };

export type ValidationResult = { ok: true; value: ScanScheduleWrite } | { ok: false; errors: FieldError[] };

export function validateScheduleWrite(input: unknown): ValidationResult {
  const result = scanScheduleWriteSchema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: toFieldErrors(result.error.issues) };
}

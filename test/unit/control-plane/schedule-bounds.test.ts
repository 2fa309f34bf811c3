/**
 * One bound per schedule field, the same in the REST schema, the store and the protocol: each
 * accepts a value at SCHEDULE_LIMITS and refuses one past it.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { pushedScheduleSchema } from '../../../src/protocol/messages/commands.js';
import { openSqliteStore } from '../../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore, StoredSchedule } from '../../../src/control-plane/store/types.js';
import { SCHEDULE_LIMITS, validateScheduleWrite } from '../../../src/shared/schedule/rules.js';
import { tempDir } from '../../helpers/temp.js';

const SITE = '0b0e7f8e-6c1a-4a57-9d55-3f4c1e0a9b21';
const at = '2026-01-05T07:00:00.000Z';

function write(field: keyof typeof SCHEDULE_LIMITS, size: number) {
  const base = {
    description: 'd',
    day_of_week: 1,
    time_of_day: '02:00',
    every_n_weeks: 2,
    timezone: 'UTC',
    min_cvss: 4,
    warning_threshold: 7,
    ignore_offline_sites: false,
    notification_group: 'g',
    sites: [{ id: SITE, subnet: '10.0.0.0/24' }],
  };
  if (field === 'sites') return { ...base, sites: Array.from({ length: size }, (_, i) => ({ id: SITE, subnet: `10.${i >> 8}.${i & 255}.0/24` })) };
  // A valid zone padded to the size: only the length can be what the rules refuse.
  if (field === 'timezone') return { ...base, timezone: size <= 3 ? 'UTC' : `Etc/${'x'.repeat(size - 4)}` };
  return { ...base, [field]: 'x'.repeat(size) };
}

const stored = (body: ReturnType<typeof write>, id: string): StoredSchedule => ({
  ...body,
  id,
  org_id: 'org-a',
  anchor_at: at,
  next_scan_at: at,
  last_run_at: null,
  created_at: at,
  updated_at: at,
});

let store: ControlPlaneStore | undefined;
afterEach(async () => store?.close());

describe('schedule bounds (SCHEDULE_LIMITS)', () => {
  for (const field of Object.keys(SCHEDULE_LIMITS) as (keyof typeof SCHEDULE_LIMITS)[]) {
    const limit = SCHEDULE_LIMITS[field];

    it(`${field}: the REST rules refuse past ${limit}`, () => {
      const refused = validateScheduleWrite(write(field, limit + 1));
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.errors.map((e) => e.message).join()).toMatch(new RegExp(`^${field}`));
      // The timezone at its limit is no real zone; everything else is accepted.
      if (field !== 'timezone') expect(validateScheduleWrite(write(field, limit)).ok).toBe(true);
    });

    it(`${field}: the protocol accepts ${limit} and refuses past it`, () => {
      const frame = (size: number) => ({
        ...stored(write(field, size), SITE),
        org_id: undefined,
        next_scan_at: undefined,
        last_run_at: undefined,
        created_at: undefined,
      });
      const strip = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
      expect(pushedScheduleSchema.safeParse(strip(frame(limit))).success).toBe(true);
      expect(pushedScheduleSchema.safeParse(strip(frame(limit + 1))).success).toBe(false);
    });

    it(`${field}: the store accepts ${limit} and refuses past it`, async () => {
      const opened = openSqliteStore({ stateDir: tempDir('bounds-'), logger: pino({ level: 'silent' }), ingestThread: false });
      store = opened;
      await opened.schedules.insert(stored(write(field, limit), crypto.randomUUID()));
      await expect(opened.schedules.insert(stored(write(field, limit + 1), crypto.randomUUID()))).rejects.toThrow(/past its bound/);
      const id = crypto.randomUUID();
      await opened.schedules.insert(stored(write(field, 1), id));
      await expect(opened.schedules.replace(stored(write(field, limit + 1), id))).rejects.toThrow(/past its bound/);
      expect((await opened.schedules.list('org-a')).length).toBe(2);
    });
  }
});

/** Times with their zone (`2026-12-05 14:00 Europe/Riga`), in the operator's zone unless one is given. */
import { DateTime } from 'luxon';

export const operatorZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function formatTime(iso: string | null | undefined, zone: string = operatorZone()): string {
  if (!iso) return '—';
  const time = DateTime.fromISO(iso, { setZone: true }).setZone(zone);
  return time.isValid ? `${time.toFormat('yyyy-MM-dd HH:mm')} ${zone}` : iso;
}

/** The next `count` runs of a schedule from its next one: n weeks apart in its own zone (DST keeps the wall time). */
export function nextRuns(nextIso: string | null, everyNWeeks: number, zone: string, count = 3): string[] {
  if (!nextIso) return [];
  const first = DateTime.fromISO(nextIso, { zone });
  if (!first.isValid) return [];
  return Array.from({ length: count }, (_, i) => first.plus({ weeks: i * everyNWeeks }).toISO() as string);
}

export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const shortId = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '—');

export const score = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : value.toFixed(1));

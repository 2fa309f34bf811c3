import { DateTime } from 'luxon';

/**
 * The one way an instant is shown in a schedule's zone, by the CLI and the API alike:
 * ISO 8601 with the zone's offset, whole seconds ("2026-12-02T22:00:00-05:00").
 * The stores keep UTC; this is for people and for the API's schedule-relative times.
 */
export function renderInZone(instant: string | Date | DateTime, zone: string): string {
  const dt = typeof instant === 'string' ? DateTime.fromISO(instant, { zone: 'utc' }) : instant instanceof Date ? DateTime.fromJSDate(instant) : instant;
  const shown = dt.setZone(zone).toISO({ suppressMilliseconds: true });
  if (shown === null) throw new RangeError(`cannot render ${String(instant)} in ${zone}`);
  return shown;
}

/** `renderInZone` for a stored value that may be absent. */
export function renderOptionalInZone(iso: string | null, zone: string): string | null {
  return iso === null ? null : renderInZone(iso, zone);
}

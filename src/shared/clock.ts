/** Time comes from here so tests can drive the scheduler without waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The one format the stores use: UTC ISO 8601 with milliseconds, which sorts as text in time order. */
export function utcIso(instant: Date | { toMillis(): number }): string {
  return new Date(instant instanceof Date ? instant.getTime() : instant.toMillis()).toISOString();
}

import { InvalidArgumentError } from 'commander';

/**
 * Option parsers for commander: a value that makes no sense is refused as a usage error
 * (exit 64, one line naming the option) before anything runs.
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `expected a whole number of at least ${min}.` : `expected a whole number from ${min} to ${max}.`,
      );
    }
    return number;
  };
}

const TTL_UNITS = { m: 60, h: 3600, d: 86_400 } as const;

/** A lifetime like `90d`, `12h` or `30m`, in seconds, from one minute up to `maxDays`. */
export function timeToLive(maxDays: number): (value: string) => number {
  return (value) => {
    const match = /^(\d+)([mhd])$/.exec(value.trim());
    const seconds = match ? Number(match[1]) * TTL_UNITS[match[2] as keyof typeof TTL_UNITS] : Number.NaN;
    if (!Number.isSafeInteger(seconds) || seconds < 60 || seconds > maxDays * 86_400)
      throw new InvalidArgumentError(`expected a lifetime like 90d, 12h or 30m, from 1m to ${maxDays}d.`);
    return seconds;
  };
}

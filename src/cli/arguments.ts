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

/**
 * A small deterministic generator for fuzz tests (no dependency): mulberry32 over a 32-bit seed.
 * A test takes its seed from FUZZ_SEED or a fixed default and prints it with every failure, so
 * `FUZZ_SEED=<seed> npx vitest run <file>` replays the failing sequence exactly.
 */
export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  int(min: number, max: number): number;
  bool(p?: number): boolean;
  pick<T>(items: readonly T[]): T;
  string(maxLength: number): string;
}

export function seedFromEnv(fallback: number): number {
  const raw = process.env.FUZZ_SEED;
  return raw === undefined || raw === '' ? fallback : Number.parseInt(raw, 10) >>> 0;
}

const ALPHABET = ['a', 'Z', '0', ' ', '-', '/', ':', '%', '"', '\\', '\n', '\u0000', 'é', '漢', '😀', '\u202e', '{', '}', '[', ']'];

export function seeded(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    bool: (p = 0.5) => next() < p,
    pick: (items) => items[int(0, items.length - 1)] as (typeof items)[number],
    string: (maxLength) => Array.from({ length: int(0, maxLength) }, () => ALPHABET[int(0, ALPHABET.length - 1)]).join(''),
  };
}

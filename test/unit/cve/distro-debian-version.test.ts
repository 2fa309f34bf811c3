import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compareDebianVersions, isDebianVersion, parseDebianVersion } from '../../../src/cve/distro/debian-version.js';

const run = promisify(execFile);

/** mulberry32: a small seeded PRNG so the generated pairs are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const number = (): string => pick(['0', '1', '2', '9', '10', '01', '007', '22', '100', String(Math.floor(random() * 30))]);
  const upstream = (): string => {
    let text = number();
    const pieces = Math.floor(random() * 4);
    for (let k = 0; k < pieces; k += 1) text += pick(['.', '.', '+', '~', 'p', 'a', 'b', '~rc', '+dfsg', '.', 'z']) + number();
    return text + pick(['', '', '', '~', '~beta1', 'p1', 'a', '+really1.0', '+dfsg']);
  };
  const revision = (): string =>
    pick([
      '',
      '1',
      '2',
      '0',
      `${number()}+deb12u${number()}`,
      `${number()}~deb11u${number()}`,
      `${number()}+deb${pick(['10', '11', '12', '13'])}u${number()}`,
      `${number()}ubuntu0.22.04.${number()}`,
      `${number()}ubuntu0.${pick(['20', '22', '24'])}.04.${number()}`,
      `${number()}ubuntu${number()}`,
      `${number()}ubuntu${number()}.${number()}`,
      `0+deb12u${number()}`,
      `${number()}.${number()}`,
      `${number()}build${number()}`,
      `${number()}~`,
    ]);
  const version = (): string => {
    const epoch = pick(['', '', '', '1:', '2:', '0:', '10:']);
    const rev = revision();
    return `${epoch}${upstream()}${rev === '' ? '' : `-${rev}`}`;
  };
  // Half the pairs share most of their text, so the comparison has to look deep.
  return (): [string, string] => {
    const a = version();
    if (random() < 0.5) return [a, version()];
    const cut = Math.floor(random() * a.length);
    const b = a.slice(0, cut) + pick(['~', '.1', '1', 'a', '+', '0', '~1', '+b1', '-1']) + a.slice(cut);
    return [a, isDebianVersion(b) ? b : a];
  };
}

/** dpkg's own answer for each pair: one shell per batch, printing `<` `=` `>` per line. */
async function dpkgCompare(pairs: readonly (readonly [string, string])[]): Promise<(-1 | 0 | 1)[]> {
  const script = pairs
    .map(
      ([a, b]) => `if dpkg --compare-versions '${a}' lt '${b}'; then echo '<'; elif dpkg --compare-versions '${a}' eq '${b}'; then echo '='; else echo '>'; fi`,
    )
    .join('\n');
  const { stdout } = await run('sh', ['-c', script], { maxBuffer: 1 << 20 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => (line === '<' ? -1 : line === '=' ? 0 : 1));
}

describe('compareDebianVersions', () => {
  it('orders the documented cases', () => {
    expect(compareDebianVersions('1.0~rc1', '1.0')).toBe(-1);
    expect(compareDebianVersions('1.0', '1.0+b1')).toBe(-1);
    expect(compareDebianVersions('1:9.2p1-2+deb12u3', '1:9.2p1-2+deb12u2')).toBe(1);
    expect(compareDebianVersions('1:9.2p1-2', '9.9p1-1')).toBe(1);
    expect(compareDebianVersions('2.4.62-1~deb12u1', '2.4.62-1')).toBe(-1);
    expect(compareDebianVersions('1.01', '1.1')).toBe(0);
    expect(compareDebianVersions('1.0a', '1.0+')).toBe(-1);
    expect(compareDebianVersions('1:8.9p1-3ubuntu0.10', '1:8.9p1-3ubuntu0.6')).toBe(1);
    expect(compareDebianVersions('0', '0')).toBe(0);
  });

  it('rejects what is not a Debian version', () => {
    for (const bad of ['', 'a1', '1:', 'x:1.0', '1.0-', '1.0-a_b', ' ', 'é1']) expect(isDebianVersion(bad), bad).toBe(false);
    expect(parseDebianVersion('1:9.2p1-2+deb12u3')).toEqual({ epoch: 1, upstream: '9.2p1', revision: '2+deb12u3' });
    expect(parseDebianVersion('1:2.3-4-5')).toEqual({ epoch: 1, upstream: '2.3-4', revision: '5' });
    expect(() => compareDebianVersions('a1', '1')).toThrow(TypeError);
  });

  it('agrees with dpkg --compare-versions on 12,000 generated pairs', { timeout: 600_000 }, async () => {
    const next = generator(0x5eed12);
    const pairs = Array.from({ length: 12_000 }, next);
    for (const [a, b] of pairs) {
      expect(isDebianVersion(a), a).toBe(true);
      expect(isDebianVersion(b), b).toBe(true);
    }
    const batches: (readonly [string, string])[][] = [];
    for (let k = 0; k < pairs.length; k += 400) batches.push(pairs.slice(k, k + 400));
    const answers: (-1 | 0 | 1)[] = [];
    // Two batches at a time: this machine has two cores and others share them.
    for (let k = 0; k < batches.length; k += 2) {
      const results = await Promise.all(batches.slice(k, k + 2).map(dpkgCompare));
      for (const result of results) answers.push(...result);
    }
    expect(answers).toHaveLength(pairs.length);
    const mismatches = pairs.map(([a, b], k) => ({ a, b, dpkg: answers[k], ours: compareDebianVersions(a, b) })).filter((row) => row.dpkg !== row.ours);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(new Set(answers)).toEqual(new Set([-1, 0, 1]));
  });
});

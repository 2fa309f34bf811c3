import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, generators, readmeOutputNames, readmeOutputOpenings, replaceOutput, skipped } from '../../../scripts/docs/readme-outputs.js';

// The content of the blocks depends on the run (ports, ids, times); npm run docs:outputs regenerates it.
describe("the README's real-output blocks", () => {
  const text = readFileSync(README, 'utf8');
  const names = readmeOutputNames(text);

  it('are each a fenced block between <!-- output:NAME --> and <!-- /output:NAME -->, every name once', () => {
    expect(names.length).toBeGreaterThan(0);
    expect(readmeOutputOpenings(text)).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('each have a generator in scripts/docs/readme-outputs.ts, or a reason to be kept as they are', () => {
    expect(names.filter((name) => !(name in generators) && !(name in skipped))).toEqual([]);
  });

  it('are all the script generates or skips: no generator without its block', () => {
    expect([...Object.keys(generators), ...Object.keys(skipped)].filter((name) => !names.includes(name))).toEqual([]);
    expect(Object.keys(generators).filter((name) => name in skipped)).toEqual([]);
  });

  it('are rewritten between their markers only, fences and prose kept', () => {
    const sample = 'before\n<!-- output:x -->\n```text\nold\n```\n<!-- /output:x -->\nafter\n';
    expect(replaceOutput(sample, 'x', 'new\nlines')).toBe('before\n<!-- output:x -->\n```text\nnew\nlines\n```\n<!-- /output:x -->\nafter\n');
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { unitNodeOptions } from '../../../scripts/bench-node-options.mjs';

/** Allocates 200 MB of short-lived objects with some survivors, then says how large V8's young generation grew. */
const churn = `
  const v8 = require('node:v8');
  const keep = [];
  for (let i = 0; i < 2000000; i++) { const o = { i, s: 'x' + i }; if (i % 50 === 0) keep.push(o); if (keep.length > 20000) keep.length = 0; }
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  console.log(young.space_size);
`;

describe("the agent unit's node options", () => {
  it('cap the young generation that an idle daemon would otherwise keep at 16 MB semi-spaces', () => {
    const options = unitNodeOptions();
    expect(options).toContain('--max-semi-space-size=1');
    // Passed the way systemd passes them, in NODE_OPTIONS (which allows this V8 flag).
    const grown = (env: NodeJS.ProcessEnv) => Number(execFileSync(process.execPath, ['-e', churn], { env, encoding: 'utf8' }).trim());
    const withOptions = grown({ ...process.env, NODE_OPTIONS: options.join(' ') });
    // space_size counts both semi-spaces.
    expect(withOptions).toBeLessThanOrEqual(2 * 1024 * 1024);
    // The same churn without them grows it: the cap is what keeps it small.
    expect(grown({ ...process.env, NODE_OPTIONS: '' })).toBeGreaterThan(withOptions);
  });
});

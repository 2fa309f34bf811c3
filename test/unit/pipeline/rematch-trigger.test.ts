import { describe, expect, it } from 'vitest';
import { describeCveDataChange } from '../../../src/agent/cve/data-watch.js';
import { createRematchTrigger, triggerText } from '../../../src/agent/pipeline/rematch-trigger.js';
import { captureLogger } from '../../helpers/logger.js';
import { ManualTimers } from '../../integration/uplink/manual-timers.js';

function trigger() {
  const timers = new ManualTimers();
  const runs: { trigger: string; finish: () => void }[] = [];
  const rematch = createRematchTrigger({
    timers,
    logger: captureLogger().logger,
    quietMs: 5_000,
    maxWaitMs: 15_000,
    start(text) {
      return new Promise<void>((resolve) => runs.push({ trigger: text, finish: resolve }));
    },
  });
  return { timers, runs, rematch };
}

describe('the re-match trigger', () => {
  it('gathers a burst into one run once the data has been quiet', () => {
    const { timers, runs, rematch } = trigger();
    rematch.notify('a');
    timers.advance(4_000);
    rematch.notify('b');
    timers.advance(4_000);
    expect(runs).toHaveLength(0);
    timers.advance(1_000);
    expect(runs.map((run) => run.trigger)).toEqual(['a; b']);
  });

  it('never waits longer than maxWaitMs after the first arrival, however long the burst', () => {
    const { timers, runs, rematch } = trigger();
    for (let at = 0; at < 15_000; at += 3_000) {
      rematch.notify(`delta ${at}`);
      timers.advance(3_000);
    }
    expect(runs).toHaveLength(1);
  });

  it('data arriving during a run starts exactly one more run after it, with every reason that came', async () => {
    const { timers, runs, rematch } = trigger();
    rematch.notify('first');
    timers.advance(5_000);
    expect(runs).toHaveLength(1);
    rematch.notify('second');
    rematch.notify('third');
    timers.advance(60_000);
    // Not while the first runs.
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((run) => run.trigger)).toEqual(['first', 'second; third']);
    runs[1]!.finish();
    await rematch.idle();
    timers.advance(60_000);
    expect(runs).toHaveLength(2);
  });

  it('keeps the trigger within the protocol bound (300 characters)', () => {
    expect(triggerText(Array.from({ length: 50 }, (_, n) => `feed delta ${n}→${n + 1}: 12 CVEs added`))).toHaveLength(300);
  });
});

describe('what counts as new CVE data', () => {
  it('names a hand import and a source run that changed rows; ignores failed runs and runs that changed nothing', () => {
    const source = (name: string, fields: Record<string, unknown>) => ({ [`source_run:${name}`]: JSON.stringify({ source: name, ...fields }) });
    const before = {
      ...source('kev', { last_ok_at: '2026-12-05T00:00:00Z', changed: 3 }),
      ...source('epss', { last_ok_at: '2026-12-05T00:00:00Z', changed: 9 }),
    };
    expect(describeCveDataChange(before, before)).toBeUndefined();
    expect(
      describeCveDataChange(before, {
        ...before,
        last_import: JSON.stringify({ source: 'x', at: '2026-12-06T00:00:00Z', inserted: 12, updated: 1, unchanged: 5, older: 0, removed: 0, skipped: 0 }),
        ...source('kev', { last_ok_at: '2026-12-06T00:00:00Z', changed: 2 }),
        // Ran, found nothing new.
        ...source('epss', { last_ok_at: '2026-12-06T00:00:00Z', changed: 0 }),
      }),
    ).toBe('feed import: 12 CVEs added, 1 updated; kev source: 2 rows changed');
    // A failed run keeps its last success: nothing new.
    expect(
      describeCveDataChange(before, { ...before, ...source('kev', { last_ok_at: '2026-12-05T00:00:00Z', changed: 3, error: 'timeout' }) }),
    ).toBeUndefined();
    // An import that changed nothing.
    expect(describeCveDataChange({}, { last_import: JSON.stringify({ inserted: 0, updated: 0, removed: 0, unchanged: 78 }) })).toBeUndefined();
  });
});

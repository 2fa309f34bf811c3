import { describe, expect, it } from 'vitest';
import { deriveScanStatus, formatRuntime } from '../../../src/control-plane/scans/status.js';
import { scanLabelOf } from '../../../src/shared/scan-label.js';

describe('deriveScanStatus', () => {
  it.each([
    [['pending', 'pending'], false, 'queued', 'queued'],
    [['pending', 'failed'], false, 'queued', 'queued'],
    [['scanning', 'pending'], false, 'queued', 'scanning'],
    [['completed', 'pending'], true, 'scanning', 'scanning'],
    [['completed', 'completed'], true, 'scanning', 'completed'],
    [['completed', 'skipped'], true, 'scanning', 'completed'],
    [['completed', 'failed'], true, 'scanning', 'partial'],
    [['stopped'], true, 'scanning', 'partial'],
    [['stopped'], false, 'scanning', 'failed'],
    [['failed', 'failed'], false, 'queued', 'failed'],
    [['skipped'], false, 'queued', 'failed'],
    [[], false, 'queued', 'failed'],
    // A terminal scan stays so while a late site runs, and settles again when it ends.
    [['failed', 'scanning'], false, 'failed', 'failed'],
    [['completed', 'completed'], true, 'failed', 'completed'],
  ] as const)('%j with results=%s from %s is %s', (subs, hasResults, current, expected) => {
    expect(deriveScanStatus(subs, hasResults, current)).toBe(expected);
  });
});

describe('summary formatting', () => {
  it('renders runtimes the way the summary shows them', () => {
    expect(formatRuntime(40_000)).toBe('40 seconds');
    expect(formatRuntime(60_000)).toBe('1 minute');
    expect(formatRuntime(35 * 60_000)).toBe('35 minutes');
    expect(formatRuntime(125 * 60_000)).toBe('2 hours 5 minutes');
    expect(formatRuntime(120 * 60_000)).toBe('2 hours');
  });

  // The label is derived from the scan's key (src/shared/scan-label.ts), no longer drawn at random.
  it('labels scans like ABC-DEF-GHJ', () => {
    const labels = new Set(Array.from({ length: 50 }, (_, i) => scanLabelOf({ scanId: `9c46a6f1-a8d8-4f5a-9b2f-${String(i).padStart(12, '0')}` })));
    for (const label of labels) expect(label).toMatch(/^[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}$/);
    expect(labels.size).toBeGreaterThan(45);
  });
});

import { describe, expect, it } from 'vitest';
import { parseScanRef, scanKeyOf, scanLabelOf } from '../../../src/shared/scan-label.js';

const label = /^[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}$/;
const schedule = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';

// Before: each side drew its own random label (the agent from A-Z with I and O), so one scan had two labels.
describe('scanLabelOf: one label per scan, derived from what both sides know', () => {
  it.each([
    [{ scanId: '9c46a6f1-a8d8-4f5a-9b2f-7d1b3e9c5a1d' }, 'STG-EHX-NYZ'],
    [{ scanId: '9C46A6F1-A8D8-4F5A-9B2F-7D1B3E9C5A1D' }, 'STG-EHX-NYZ'],
    [{ scheduleId: schedule, slotAt: '2025-11-10T07:00:00.000Z' }, 'HXR-PXT-FCK'],
    [{ scheduleId: schedule, slotAt: '2025-11-10T07:00:00Z' }, 'HXR-PXT-FCK'],
    [{ scheduleId: schedule.toUpperCase(), slotAt: '2025-11-10T07:00:00Z' }, 'HXR-PXT-FCK'],
    [{ scheduleId: schedule, slotAt: '2025-11-24T07:00:00.000Z' }, 'CVS-LVU-AWL'],
    [{ runId: '0407b8cc-24e1-4a44-8bb8-d878f8a13bb5' }, 'VLX-PYS-FMK'],
  ])('%j -> %s', (key, expected) => {
    expect(scanLabelOf(key)).toBe(expected);
  });

  it('uses the 24-letter alphabet (no I, no O)', () => {
    for (let i = 0; i < 200; i++) expect(scanLabelOf({ runId: `0407b8cc-24e1-4a44-8bb8-${String(i).padStart(12, '0')}` })).toMatch(label);
  });

  it.each([
    [
      { schedule_id: schedule, slot_at: '2025-11-10T07:00:00Z', cp_scan_id: null, run_id: 'r' },
      { scheduleId: schedule, slotAt: '2025-11-10T07:00:00Z' },
    ],
    [
      { schedule_id: schedule, slot_at: '2025-11-10T07:00:00Z', cp_scan_id: 'c', run_id: 'r' },
      { scheduleId: schedule, slotAt: '2025-11-10T07:00:00Z' },
    ],
    [{ schedule_id: schedule, slot_at: null, cp_scan_id: 'c', run_id: 'r' }, { scanId: 'c' }],
    [{ schedule_id: schedule, slot_at: null, cp_scan_id: null, run_id: 'r' }, { runId: 'r' }],
    [{ schedule_id: null, slot_at: null, cp_scan_id: null, run_id: 'r' }, { runId: 'r' }],
  ])('scanKeyOf(%j) -> %j: a slot first, then the control-plane scan, then the run', (fields, key) => {
    expect(scanKeyOf(fields)).toEqual(key);
  });
});

// Before: the agent's `report` took only its run id, exact case; the API a UUID in any case.
describe('parseScanRef: what is accepted wherever a scan id is', () => {
  it.each([
    ['ABC-DEF-GHJ', { kind: 'label', label: 'ABC-DEF-GHJ' }],
    ['abc-def-ghj', { kind: 'label', label: 'ABC-DEF-GHJ' }],
    ['abcdefghj', { kind: 'label', label: 'ABC-DEF-GHJ' }],
    ['ABC DEF GHJ', { kind: 'label', label: 'ABC-DEF-GHJ' }],
    ['  ABC-DEF-GHJ  ', { kind: 'label', label: 'ABC-DEF-GHJ' }],
    ['OUF-XZT-PIE', { kind: 'label', label: 'OUF-XZT-PIE' }],
    ['0407B8CC-24E1-4A44-8BB8-D878F8A13BB5', { kind: 'uuid', id: '0407b8cc-24e1-4a44-8bb8-d878f8a13bb5' }],
    ['0407b8cc-24e1-4a44-8bb8-d878f8a13bb5', { kind: 'uuid', id: '0407b8cc-24e1-4a44-8bb8-d878f8a13bb5' }],
    ['ABC-DEF-GH', undefined],
    ['ABC-DEF-GHJ-KLM', undefined],
    ['AB1-DEF-GHJ', undefined],
    ['', undefined],
    ['not-a-scan', undefined],
  ])('%j -> %j', (input, expected) => {
    expect(parseScanRef(input)).toEqual(expected);
  });

  it('reads back every label it makes', () => {
    const made = scanLabelOf({ runId: '0407b8cc-24e1-4a44-8bb8-d878f8a13bb5' });
    expect(parseScanRef(made.toLowerCase())).toEqual({ kind: 'label', label: made });
  });
});

import { describe, expect, it } from 'vitest';
import { averageScore, highestScore, repeatRatio, roundScore, summarise, type SummaryHost } from '../../../../src/shared/report/summary.js';
import { isKept, isOpenWarning, isWarning } from '../../../../src/shared/report/thresholds.js';

describe('thresholds: both inclusive', () => {
  it.each([
    [7, 7, true],
    [6.9, 7, false],
    [7.05, 7, true],
    [6.999999, 7, false],
    [10, 10, true],
    [0, 0, true],
  ])('isWarning(%s, %s) = %s', (score, threshold, expected) => {
    expect(isWarning(score, threshold)).toBe(expected);
  });

  it.each([
    [null, 0, false],
    [4, 4, true],
    [3.9, 4, false],
  ])('isKept(%s, %s) = %s', (score, min, expected) => {
    expect(isKept(score, min)).toBe(expected);
  });

  // Bug fix: the agent's summary counted accepted/mitigated findings as warnings; report.json did not.
  it.each([
    [9.8, 'accepted', false],
    [9.8, 'mitigated', false],
    [7.5, 'open', true],
    [6.0, 'open', false],
  ] as const)('isOpenWarning(%s %s, 7) = %s', (score, status, expected) => {
    expect(isOpenWarning({ score, status }, 7)).toBe(expected);
  });
});

const finding = (cve_id: string, score: number, status: 'open' | 'accepted' | 'mitigated' = 'open') => ({ cve_id, score, status });
const host = (findings: SummaryHost['findings'], ports: SummaryHost['ports'] = []): SummaryHost => ({ findings, ports });

describe('summary arithmetic: one copy for the agent and the control plane', () => {
  it.each([
    [0, 0, null],
    [17.3, 2, 8.65],
    [9.8 + 9.8 + 7.5, 3, 9.03],
    [9.8 + 7.5 + 5.3, 3, 7.53],
    [7.12 + 7.13, 2, 7.13],
  ])('averageScore(%s, %s) = %s', (sum, count, expected) => {
    expect(averageScore(sum, count)).toBe(expected);
  });

  it.each([
    [5, 0, 0],
    [5, 3, 1.67],
    [3, 2, 1.5],
  ])('repeatRatio(%s, %s) = %s', (count, unique, expected) => {
    expect(repeatRatio(count, unique)).toBe(expected);
  });

  it('highestScore is null for no score; roundScore keeps two decimals', () => {
    expect(highestScore([])).toBeNull();
    expect(highestScore([7.5, 9.8, 0])).toBe(9.8);
    expect(roundScore(1.005 * 1000)).toBe(1005);
    expect(roundScore(2 / 3)).toBe(0.67);
  });

  // Bug fix: the agent reported highest 0 and average 0 for an empty scan; the control plane null.
  it('no hosts: counts 0, scores null', () => {
    expect(summarise([], 7)).toEqual({
      hosts_scanned: 0,
      hosts_with_cves: 0,
      cve_count: 0,
      unique_cves: 0,
      cve_repeat_ratio: 0,
      highest_score: null,
      average_score: null,
      open_ports: 0,
      unique_ports: 0,
      warnings: 0,
      accepted: 0,
      mitigated: 0,
    });
  });

  it('hosts without findings: scores null', () => {
    expect(summarise([host([]), host([]), host([])], 7)).toMatchObject({ hosts_scanned: 3, hosts_with_cves: 0, highest_score: null, average_score: null });
  });

  it('counts, ratio and scores', () => {
    const summary = summarise([host([finding('CVE-1', 9.8), finding('CVE-2', 7.5)]), host([finding('CVE-1', 9.8)])], 7);
    expect(summary).toMatchObject({ cve_count: 3, unique_cves: 2, cve_repeat_ratio: 1.5, highest_score: 9.8, average_score: 9.03, hosts_with_cves: 2 });
  });

  it('ports: unique by number, whatever the protocol', () => {
    const summary = summarise(
      [
        host(
          [],
          [
            { protocol: 'tcp', port: 22 },
            { protocol: 'udp', port: 53 },
          ],
        ),
        host(
          [],
          [
            { protocol: 'tcp', port: 22 },
            { protocol: 'tcp', port: 80 },
          ],
        ),
      ],
      7,
    );
    expect(summary).toMatchObject({ open_ports: 4, unique_ports: 3 });
  });

  it('warnings are open findings at or above the threshold', () => {
    const summary = summarise([host([finding('CVE-1', 9.8, 'accepted'), finding('CVE-2', 7.5), finding('CVE-3', 6.0)])], 7);
    expect(summary).toMatchObject({ warnings: 1, accepted: 1, mitigated: 0 });
  });
});

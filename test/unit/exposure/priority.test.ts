import { describe, expect, it } from 'vitest';
import { prioritise, whyOf, type PriorityFacts } from '../../../src/cve/priority.js';

const base = { kev: null, epss: null, exposure: [] } satisfies Omit<PriorityFacts, 'cve_id' | 'score'>;
const forwarded = [{ kind: 'dstnat' as const, detail: 'forwarded from WAN tcp/2222 by dstnat rule *3' }];
const kev = { date_added: '2024-05-01', due_date: '2024-05-22', ransomware: true };

describe('the fix-first order', () => {
  it('puts exposed and known-exploited first, then known-exploited, then exposed, then EPSS, then CVSS', () => {
    const order = prioritise([
      { ...base, cve_id: 'CVE-2024-0001', score: 10 },
      { ...base, cve_id: 'CVE-2024-0002', score: 5, epss: { score: 0.5, percentile: 0.97, date: '2024-01-13' } },
      { ...base, cve_id: 'CVE-2024-0003', score: 6, exposure: forwarded },
      { ...base, cve_id: 'CVE-2024-0004', score: 4, kev },
      { ...base, cve_id: 'CVE-2024-0005', score: 3, kev, exposure: forwarded },
      { ...base, cve_id: 'CVE-2024-0006', score: null },
    ]);
    expect(order.map((f) => [f.cve_id, f.priority.rank])).toEqual([
      ['CVE-2024-0005', 1],
      ['CVE-2024-0004', 2],
      ['CVE-2024-0003', 3],
      ['CVE-2024-0002', 4],
      ['CVE-2024-0001', 5],
      ['CVE-2024-0006', 6],
    ]);
  });

  it('says why in one line per reason', () => {
    const facts = { cve_id: 'CVE-2024-0005', score: 9.8, kev, exposure: forwarded, epss: { score: 0.94, percentile: 0.995, date: '2024-01-13' } };
    expect(whyOf(facts).join(', ')).toBe('KEV since 2024-05-01 (ransomware), forwarded from WAN tcp/2222 by dstnat rule *3, EPSS 0.94 (99th pct), CVSS 9.8');
    expect(whyOf({ ...base, cve_id: 'CVE-2024-0006', score: null })).toEqual(['CVSS unscored']);
    const epss = (p: number) => whyOf({ ...base, cve_id: 'CVE-2024-0007', score: 5, epss: { score: 0.1, percentile: p, date: '2024-01-13' } })[0];
    expect([0.931, 0.822, 0.711, 0.115, 0.125].map(epss)).toEqual([
      'EPSS 0.10 (93rd pct)',
      'EPSS 0.10 (82nd pct)',
      'EPSS 0.10 (71st pct)',
      'EPSS 0.10 (11th pct)',
      'EPSS 0.10 (12th pct)',
    ]);
  });

  it('says when exposure could not be read, and why', () => {
    expect(whyOf({ ...base, cve_id: 'CVE-2024-0008', score: 7.5, exposure_unknown: 'the router was not read' })).toEqual([
      'exposure unknown: the router was not read',
      'CVSS 7.5',
    ]);
  });
});

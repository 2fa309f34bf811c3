import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeUpFrame } from '../../../src/protocol/index.js';
import { COVERAGE_LIST_MAX, coverageLines } from '../../../src/shared/report/coverage.js';
import { finished, sampleCoverage } from '../../simulators/control-plane/reports.js';

const frame = (report: object) => JSON.stringify({ ...report, seq: 1 });

// Before: scan.finished had no coverage field; a frame carrying one was malformed.
describe('scan.finished and its coverage statement', () => {
  it('takes a scan.finished with a coverage statement, and one without (an agent before it)', () => {
    const runId = randomUUID();
    const withCoverage = decodeUpFrame(frame(finished(runId, 0, 'completed', 1, sampleCoverage())));
    expect(withCoverage.ok, JSON.stringify(withCoverage)).toBe(true);
    expect(withCoverage).toMatchObject({ frame: { type: 'scan.finished', coverage: sampleCoverage() } });
    expect(decodeUpFrame(frame(finished(runId, 0))).ok).toBe(true);
  });

  it('refuses a statement with an unknown key or a list over the cap', () => {
    const runId = randomUUID();
    const extra = { ...sampleCoverage(), sneaky: true };
    expect(decodeUpFrame(frame(finished(runId, 0, 'completed', 1, extra)))).toMatchObject({ ok: false, code: 'malformed_frame' });
    const long = sampleCoverage();
    long.alive_without_open_port = {
      count: COVERAGE_LIST_MAX + 1,
      hosts: Array.from({ length: COVERAGE_LIST_MAX + 1 }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
    };
    expect(decodeUpFrame(frame(finished(runId, 0, 'completed', 1, long)))).toMatchObject({ ok: false, code: 'malformed_frame' });
  });

  it('reads as a few lines for a terminal, the warnings last', () => {
    const lines = coverageLines(sampleCoverage());
    expect(lines[0]).toBe('addresses: 12 of 254 in scope answered');
    expect(lines).toContain('known to the router, silent: 1 (192.168.88.30)');
    expect(lines).toContain('neighbor ap-old (192.168.88.9): not judged: the router reported no RouterOS version for it');
    expect(lines).toContain('CVE data: 1200 CVEs, 40 day(s) old (stale)');
    expect(lines.at(-1)).toBe('warning: the CVE data is 40 day(s) old');
  });

  it("carries the agent's max_age_days when it says it, and names it in the stale line", () => {
    const coverage = sampleCoverage();
    coverage.cve_data = { ...coverage.cve_data!, max_age_days: 7 };
    const decoded = decodeUpFrame(frame(finished(randomUUID(), 0, 'completed', 1, coverage)));
    expect(decoded).toMatchObject({ ok: true, frame: { coverage: { cve_data: { max_age_days: 7, stale: true } } } });
    expect(coverageLines(coverage)).toContain('CVE data: 1200 CVEs, 40 day(s) old (stale: older than 7 day(s))');
  });
});

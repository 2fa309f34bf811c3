import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/agent/errors.js';
import { parseMarkInput } from '../../../src/agent/pipeline/mark-input.js';
import { scanLabelOf } from '../../../src/shared/scan-label.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const valid = { device: 'b8-27-eb-44-55-66', cve_id: 'CVE-2017-7529', status: 'accepted', justification: 'behind a proxy that strips Range', author: 'ops' };

describe('vulnerability mark input', () => {
  it('keeps MACs upper-case with colons, as the API returns them, and takes an IP for a host without one', () => {
    expect(parseMarkInput(valid, NOW)).toMatchObject({ mac: 'B8:27:EB:44:55:66', ip: null, status: 'accepted', expires_at: null });
    expect(parseMarkInput({ ...valid, device: '127.0.30.2', expires: '2027-06-30T00:00:00+02:00' }, NOW)).toMatchObject({
      mac: null,
      ip: '127.0.30.2',
      expires_at: '2027-06-29T22:00:00.000Z',
    });
  });

  it('takes a CVE id in either case and stores it upper-case, as the control plane does', () => {
    expect(parseMarkInput({ ...valid, cve_id: 'cve-2017-7529' }, NOW)).toMatchObject({ cve_id: 'CVE-2017-7529' });
  });

  it.each([
    ['device', { device: 'host-1' }, 'must be a MAC'],
    ['device', { device: 'b8:27-eb:44-55:66' }, 'must be a MAC'],
    ['cve_id', { cve_id: 'CVE-17-1' }, 'must be a CVE id'],
    ['status', { status: 'ignored' }, 'must be accepted, mitigated or open'],
    ['justification', { justification: 'short' }, 'must be 10 to 1000 characters'],
    ['expires', { expires: 'next week' }, 'must be an ISO 8601 time'],
    ['expires', { expires: '2027-06-30' }, 'must be an ISO 8601 time'],
    // Before: a past expiry was stored and the mark never applied; the control plane refused it.
    ['expires', { expires: '2026-03-01T11:59:59Z' }, 'must be in the future \\(it is 2026-03-01T12:00:00.000Z now\\)'],
  ])('refuses a bad %s with a message naming it', (field, change, message) => {
    try {
      parseMarkInput({ ...valid, ...change }, NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AgentError);
      expect((error as AgentError).code).toBe('AGENT_ERR_MARK_INVALID');
      expect((error as AgentError).details).toEqual([expect.stringMatching(new RegExp(`^${field}: ${message}`))]);
    }
  });
});

describe('scan labels', () => {
  // Bug fix: the agent drew its own random label from A-Z (with I and O); it is now derived from the run's key, in the 24-letter alphabet.
  it('are three groups of three letters without I and O', () => {
    const labels = new Set(Array.from({ length: 50 }, (_, i) => scanLabelOf({ runId: `0407b8cc-24e1-4a44-8bb8-${String(i).padStart(12, '0')}` })));
    for (const label of labels) expect(label).toMatch(/^[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}-[A-HJ-NP-Z]{3}$/);
    expect(labels.size).toBeGreaterThan(45);
  });
});

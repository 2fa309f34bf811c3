import { describe, expect, it } from 'vitest';
import { cveMarkSchema } from '../../../src/protocol/messages/commands.js';
import { cveStatusRequest } from '../../../src/control-plane/api/shapes.js';
import { expiryProblem, justificationSchema, localMarkStatusSchema, markStatusSchema } from '../../../src/shared/mark-input.js';

const NOW = new Date('2026-03-01T12:00:00Z');

describe('expiryProblem: a mark must end in the future (CLI mark --expires, REST expiration_date)', () => {
  it.each<[string, string | undefined]>([
    ['2026-03-01T12:00:01Z', undefined],
    ['2027-06-30T00:00:00+02:00', undefined],
    ['2026-03-01T12:59:59.5+01:00', 'must be in the future (it is 2026-03-01T12:00:00.000Z now)'],
    ['2026-03-01T12:00:00Z', 'must be in the future (it is 2026-03-01T12:00:00.000Z now)'],
    ['2001-01-01T00:00:00Z', 'must be in the future (it is 2026-03-01T12:00:00.000Z now)'],
    ['2027-06-30', 'must be an ISO 8601 time with a zone, such as 2027-06-30T00:00:00Z'],
    ['2027-06-30T00:00:00', 'must be an ISO 8601 time with a zone, such as 2027-06-30T00:00:00Z'],
    ['next week', 'must be an ISO 8601 time with a zone, such as 2027-06-30T00:00:00Z'],
  ])('%s -> %s', (expires, problem) => {
    expect(expiryProblem(expires, NOW)).toBe(problem);
  });
});

describe('mark status values and justification bounds: one set for the CLI, the protocol and the API', () => {
  it.each<[string, boolean, boolean]>([
    ['accepted', true, true],
    ['mitigated', true, true],
    ['open', false, true],
    ['ignored', false, false],
    ['ACCEPTED', false, false],
  ])('%s: everywhere %s, on the agent CLI %s', (status, everywhere, local) => {
    expect(markStatusSchema.safeParse(status).success).toBe(everywhere);
    expect(localMarkStatusSchema.safeParse(status).success).toBe(local);
  });

  it.each<[number, boolean]>([
    [0, false],
    [9, false],
    [10, true],
    [1000, true],
    [1001, false],
  ])('a justification of %i characters -> %s', (length, ok) => {
    expect(justificationSchema.safeParse('x'.repeat(length)).success).toBe(ok);
  });

  const relayed = (justification: string) => ({
    id: '0407b8cc-7b4b-4f2a-9a51-5a3f2c1d0e9f',
    mac_address: '4C:5E:0C:12:34:56',
    cve_id: 'CVE-2018-14847',
    status: 'accepted',
    justification,
    expiration_date: null,
    product: null,
    version: null,
    created_at: '2026-03-01T12:00:00.000Z',
  });

  it('the protocol holds a relayed mark to the API bounds (before: any text up to 1000, even empty)', () => {
    const body = (justification: string) => cveMarkSchema.safeParse(relayed(justification)).success;
    expect(body('Winbox is firewalled.')).toBe(true);
    expect(body('')).toBe(false);
    expect(body('short')).toBe(false);
    expect(cveStatusRequest.safeParse({ mac_address: '4C:5E:0C:12:34:56', cve_id: 'CVE-2018-14847', status: 'accepted', justification: 'short' }).success).toBe(
      false,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { deviceKey, markInForce, productKey, type MarkLike } from '../../../src/shared/marks.js';

describe('productKey: what a mark is made for', () => {
  it.each([
    ['cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*', 'openssh:9.2:p1'],
    ['cpe:2.3:a:openbsd:openssh:9.2:p2:*:*:*:*:*:*', 'openssh:9.2:p2'],
    ['cpe:2.3:a:openbsd:openssh:9.3:-:*:*:*:*:*:*', 'openssh:9.3'],
    ['cpe:2.3:o:mikrotik:routeros:6.48.6:-:*:*:ltr:*:*:*', 'routeros:6.48.6'],
    ['cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:*:*:*:*', 'routeros:6.48.6'],
    ['cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*', 'routeros:7.16:rc2'],
    ['cpe:2.3:a:f5:nginx:1.13.2:*:*:*:*:*:*:*', 'nginx:1.13.2'],
    ['cpe:2.3:a:nginx:nginx:1.13.2:*:*:*:*:*:*:*', 'nginx:1.13.2'],
    ['cpe:2.3:a:isc:bind:9.16.8:s1:*:*:supported_preview:*:*:*', 'bind:9.16.8:s1'],
    ['cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*', 'prod\\:uct:1.0'],
    ['not a cpe', undefined],
  ])('%s -> %s', (cpe, key) => {
    expect(productKey(cpe)).toBe(key);
  });
});

describe('deviceKey: MAC where known, else IP', () => {
  it.each([
    [{ mac: '00:0C:29:11:22:33', ip: '10.0.0.5' }, '00:0C:29:11:22:33'],
    [{ mac: null, ip: '10.0.0.5' }, '10.0.0.5'],
  ])('%j -> %s', (host, key) => {
    expect(deviceKey(host)).toBe(key);
  });
});

const p1 = 'cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*';
const p2 = 'cpe:2.3:a:openbsd:openssh:9.2:p2:*:*:*:*:*:*';
const now = new Date('2025-01-11T00:00:00Z');
const mark = (status: MarkLike['status'], day: string, expires_at: string | null, cpe: string | null): MarkLike => ({
  status,
  created_at: `2025-01-${day}T00:00:00.000Z`,
  expires_at,
  cpe,
});

describe('markInForce: the newest unexpired mark, lapsed when the product key changed', () => {
  it.each<[string, MarkLike[], string, MarkLike['status'] | undefined]>([
    ['no mark', [], p1, undefined],
    ['a mark made before any finding applies to every version', [mark('accepted', '01', null, null)], p2, 'accepted'],
    ['same product key', [mark('accepted', '01', null, p1)], p1, 'accepted'],
    // Bug fix: the control plane compared product text and version_used (9.2 = 9.2) and said accepted.
    ['OpenSSH 9.2p1 -> 9.2p2 lapses', [mark('accepted', '01', null, p1)], p2, undefined],
    // Bug fix: the agent compared whole CPEs and said open when RouterOS's channel was learnt.
    [
      'a learnt RouterOS channel is no device change',
      [mark('accepted', '01', null, 'cpe:2.3:o:mikrotik:routeros:6.48.6:-:*:*:*:*:*:*')],
      'cpe:2.3:o:mikrotik:routeros:6.48.6:-:*:*:ltr:*:*:*',
      'accepted',
    ],
    [
      'an NVD vendor alias is no device change',
      [mark('accepted', '01', null, 'cpe:2.3:a:nginx:nginx:1.13.2:*:*:*:*:*:*:*')],
      'cpe:2.3:a:f5:nginx:1.13.2:*:*:*:*:*:*:*',
      'accepted',
    ],
    // Bug fix: the agent took the newest mark even when expired, and said open.
    ['the newest unexpired mark counts', [mark('mitigated', '05', '2025-01-10T00:00:00.000Z', p1), mark('accepted', '01', null, p1)], p1, 'accepted'],
    ['the same, in the other order', [mark('accepted', '01', null, p1), mark('mitigated', '05', '2025-01-10T00:00:00.000Z', p1)], p1, 'accepted'],
    ['open clears', [mark('open', '05', null, null), mark('accepted', '01', null, p1)], p1, undefined],
    ['an expiry at now has passed', [mark('accepted', '01', '2025-01-11T00:00:00Z', p1)], p1, undefined],
    ['an expiry just after now has not', [mark('accepted', '01', '2025-01-11T00:00:00.001Z', p1)], p1, 'accepted'],
    ['only the newest unexpired mark is considered', [mark('accepted', '05', null, p2), mark('mitigated', '01', null, p1)], p1, undefined],
  ])('%s', (_name, marks, cpe, expected) => {
    expect(markInForce(marks, { cpe }, now)?.status).toBe(expected);
  });

  it('marks made at the same instant: the first given (the later inserted) counts', () => {
    const marks = [mark('mitigated', '05', null, p1), mark('accepted', '05', null, p1)];
    expect(markInForce(marks, { cpe: p1 }, now)?.status).toBe('mitigated');
  });
});

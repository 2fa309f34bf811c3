import { describe, expect, it } from 'vitest';
import {
  criteriaFromRest,
  criteriaPrefix,
  criteriaRest,
  packEntries,
  packStatements,
  packText,
  unpackEntries,
  unpackStatements,
  unpackText,
  type PackedEntry,
} from '../../../src/cve/compact.js';
import type { NvdConfiguration } from '../../../src/cve/nvd-schema.js';

describe('compact criteria', () => {
  const prefix = criteriaPrefix('a', 'openbsd', 'openssh');
  it.each([
    ['cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*', '*'],
    ['cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*', '9.2:p1'],
    ['cpe:2.3:a:openbsd:openssh:7.4:-:*:*:*:*:*:*', '7.4:-'],
    ['cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:x64:*', '*:*:*:*:*:*:x64'],
    ['cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:other', '*:*:*:*:*:*:*:other'],
  ])('cuts %s to what the row does not say (%s) and puts it back whole', (criteria, rest) => {
    expect(criteriaRest(criteria, prefix)).toBe(rest);
    expect(criteriaFromRest(rest, prefix)).toBe(criteria);
  });

  it.each([
    // Not verbatim under the row's lower-case, unquoted names: kept whole.
    'cpe:2.3:a:OpenBSD:openssh:9.2:*:*:*:*:*:*:*',
    'cpe:2.3:a:openbsd:openssh:1.0\\:beta:*:*:*:*:*:*:*',
    'cpe:2.3:a:openbsd:openssh_portable:9.2:*:*:*:*:*:*:*',
  ])('keeps %s whole', (criteria) => {
    expect(criteriaRest(criteria, prefix)).toBe(criteria);
    expect(criteriaFromRest(criteria, prefix)).toBe(criteria);
  });
});

describe('compact columns', () => {
  it('round-trips entries, absent bounds included', () => {
    const entries: PackedEntry[] = [
      { position: 1, rest: '*', startIncluding: '8.6', startExcluding: null, endIncluding: null, endExcluding: '9.8', standalone: 1 },
      { position: 7, rest: '7.2:p1', startIncluding: null, startExcluding: '0', endIncluding: '7.2', endExcluding: null, standalone: 0 },
    ];
    expect(unpackEntries(packEntries(entries))).toEqual(entries);
  });

  it('round-trips the description and the advice references, smaller than their JSON', () => {
    const description = 'A race condition in a signal handler of sshd allows remote code execution. '.repeat(4);
    const refs = [{ url: 'https://www.openssh.com/txt/release-9.8', tags: ['Release Notes', 'Vendor Advisory'] }];
    const packed = packText(description, refs);
    expect(unpackText(packed)).toEqual({ description, adviceReferences: refs });
    expect(packed.byteLength).toBeLessThan(JSON.stringify({ description, refs }).length / 2);
  });

  it('keeps configurations without matchCriteriaId', () => {
    const configurations: NvdConfiguration[] = [
      {
        operator: 'AND',
        negate: false,
        nodes: [
          {
            operator: 'OR',
            negate: false,
            cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:o:x:y_firmware:*:*:*:*:*:*:*:*', matchCriteriaId: 'A-B', versionEndExcluding: '2' }],
          },
          { operator: 'OR', negate: false, cpeMatch: [{ vulnerable: false, criteria: 'cpe:2.3:h:x:y:-:*:*:*:*:*:*:*', matchCriteriaId: 'C-D' }] },
        ],
      },
    ];
    const back = unpackStatements(packStatements(configurations));
    expect(JSON.stringify(back)).not.toContain('matchCriteriaId');
    expect(back[0]?.nodes[0]?.cpeMatch[0]).toEqual({ vulnerable: true, criteria: 'cpe:2.3:o:x:y_firmware:*:*:*:*:*:*:*:*', versionEndExcluding: '2' });
  });
});

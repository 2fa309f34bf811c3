import { describe, expect, it } from 'vitest';
import { splitPage } from '../../../src/cve/page-splitter.js';

describe('splitPage', () => {
  it('cuts a page into its elements without being fooled by brackets and quotes inside strings', () => {
    const elements = [
      { cve: { id: 'CVE-2024-0001', descriptions: [{ lang: 'en', value: 'a } ] { [ "quoted" \\ backslash \\" and "vulnerabilities": [' }] } },
      { cve: { id: 'CVE-2024-0002', nested: [[{}], { a: [1, 2, { b: '}' }] }] } },
    ];
    const text = JSON.stringify({
      resultsPerPage: 2,
      startIndex: 40,
      totalResults: 42,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2026-01-01T00:00:00.000',
      vulnerabilities: elements,
    });
    const split = splitPage(Buffer.from(text));
    expect(split?.wrapper).toEqual({
      resultsPerPage: 2,
      startIndex: 40,
      totalResults: 42,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2026-01-01T00:00:00.000',
      vulnerabilities: [],
    });
    expect(split?.elements.map((element) => JSON.parse(element.toString('utf8')) as unknown)).toEqual(elements);
  });

  it('finds the array wherever the key sits and however the page is indented', () => {
    const text = JSON.stringify({ vulnerabilities: [{ cve: { id: 'CVE-2024-0003' } }], totalResults: 1, note: '"vulnerabilities": []' }, null, 2);
    const split = splitPage(Buffer.from(text));
    expect(split?.elements).toHaveLength(1);
    expect(split?.wrapper).toMatchObject({ totalResults: 1, note: '"vulnerabilities": []' });
  });

  it('ignores a nested vulnerabilities key', () => {
    expect(splitPage(Buffer.from(JSON.stringify({ data: { vulnerabilities: [{ cve: {} }] } })))).toBeUndefined();
  });

  it.each([
    ['a single record', JSON.stringify({ id: 'CVE-2024-0004' })],
    ['an array that is not of objects', JSON.stringify({ vulnerabilities: [1, 2] })],
    ['broken JSON', '{"vulnerabilities": [{"cve": {}}'],
    ['an unterminated string', '{"vulnerabilities": [{"cve": "abc}]}'],
    ['too many closing brackets', '{"vulnerabilities": [{}]}}'],
    ['a broken wrapper', '{"totalResults": nope, "vulnerabilities": [{}]}'],
  ])('leaves %s to the whole-text parser', (_name, text) => {
    expect(splitPage(Buffer.from(text))).toBeUndefined();
  });

  it('cuts UTF-8 text at the right bytes', () => {
    const elements = [{ cve: { id: 'CVE-2024-0005', value: 'Grüße — “quoted” 🔒 }]' } }, { cve: { id: 'CVE-2024-0006' } }];
    const split = splitPage(Buffer.from(JSON.stringify({ vulnerabilities: elements, note: 'é' })));
    expect(split?.elements.map((element) => JSON.parse(element.toString('utf8')) as unknown)).toEqual(elements);
    expect(split?.wrapper).toEqual({ vulnerabilities: [], note: 'é' });
  });
});

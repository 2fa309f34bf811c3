import { describe, expect, it } from 'vitest';
import { buildCpe, CpeParseError, formatCpe, parseCpe, valueText } from '../../../src/cve/cpe.js';

describe('parseCpe', () => {
  it('reads every attribute, ANY and NA', () => {
    const cpe = parseCpe('cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:-:*:*:*');
    expect(valueText(cpe.part)).toBe('a');
    expect(valueText(cpe.vendor)).toBe('openbsd');
    expect(cpe.version).toEqual({ kind: 'value', text: '9.2' });
    expect(cpe.update).toEqual({ kind: 'value', text: 'p1' });
    expect(cpe.edition).toEqual({ kind: 'any' });
    expect(cpe.sw_edition).toEqual({ kind: 'na' });
  });

  it('unquotes backslash escapes, including a quoted colon', () => {
    expect(valueText(parseCpe('cpe:2.3:h:mikrotik:ccr1009-7g-1c-1s\\+pc:-:*:*:*:*:*:*:*').product)).toBe('ccr1009-7g-1c-1s+pc');
    const colon = parseCpe('cpe:2.3:a:acme:a\\:b:1.0:*:*:*:*:*:*:*');
    expect(valueText(colon.product)).toBe('a:b');
    expect(valueText(colon.version)).toBe('1.0');
  });

  it('compares without case', () => {
    expect(valueText(parseCpe('cpe:2.3:a:Apache:HTTP_Server:2.4.1').product)).toBe('http_server');
  });

  it('fills missing trailing attributes with ANY', () => {
    const cpe = parseCpe('cpe:2.3:a:openbsd:openssh:9.2');
    expect(cpe.update).toEqual({ kind: 'any' });
    expect(cpe.other).toEqual({ kind: 'any' });
  });

  it('turns leading and trailing wildcards into a pattern', () => {
    const cpe = parseCpe('cpe:2.3:a:acme:tool:1.*:*:*:*:*:*:*:*');
    expect(cpe.version.kind === 'value' && cpe.version.pattern?.test('1.22')).toBe(true);
    expect(cpe.version.kind === 'value' && cpe.version.pattern?.test('2.1')).toBe(false);
  });

  it.each([
    ['cpe:/a:openbsd:openssh:9.2', 'it must start with cpe:2.3:'],
    ['cpe:2.3:a:openbsd', 'part, vendor and product are required'],
    ['cpe:2.3:x:openbsd:openssh:9.2', 'part must be a, o or h'],
    ['cpe:2.3:a:openbsd:openssh:9.2:*:*:*:*:*:*:*:extra', 'more than 11 attributes'],
    ['cpe:2.3:a:openbsd:open*ssh:9.2', 'an unquoted wildcard inside a value'],
    ['cpe:2.3:a:openbsd:openssh:9.2\\', 'a value ends in a lone backslash'],
    ['cpe:2.3:a:open bsd:openssh:9.2', 'whitespace inside a value'],
  ])('refuses %s (%s)', (input, reason) => {
    expect(() => parseCpe(input)).toThrow(CpeParseError);
    expect(() => parseCpe(input)).toThrow(reason);
  });
});

describe('formatCpe', () => {
  it('round-trips NVD names, quoting what needs it', () => {
    for (const name of [
      'cpe:2.3:h:mikrotik:ccr1009-7g-1c-1s\\+pc:-:*:*:*:*:*:*:*',
      'cpe:2.3:o:mikrotik:routeros:6.44:beta20:*:*:testing:*:*:*',
      'cpe:2.3:a:nodejs:node.js:18.12.0:*:*:*:lts:*:*:*',
    ]) {
      expect(formatCpe(parseCpe(name))).toBe(name);
    }
  });

  it('builds from plain values, quoting specials and keeping a lone hyphen as NA', () => {
    expect(formatCpe(buildCpe({ part: 'a', vendor: 'acme', product: 'a:b c', version: '1.0', update: '-' }))).toBe(
      'cpe:2.3:a:acme:a\\:b\\ c:1.0:-:*:*:*:*:*:*',
    );
  });
});

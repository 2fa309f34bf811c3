import { describe, expect, it } from 'vitest';
import { consoleError, consoleLines, unquote } from '../../../src/agent/routeros/ssh/console-text.js';
import { parseEntries, tokenizeEntry } from '../../../src/agent/routeros/ssh/entries.js';
import { parseKeyValue } from '../../../src/agent/routeros/ssh/key-value.js';
import { parseColumnTable } from '../../../src/agent/routeros/ssh/column-table.js';

describe('the terse tokenizer', () => {
  it('reads quoted values with escapes, empty values both ways, and bare values with spaces', () => {
    const entry = tokenizeEntry(' 7 XD comment=two words here host-name="a \\"quoted\\" name" empty="" bare= path="C:\\\\dir" tail=udhcp 1.37.0   ');
    expect(entry).toEqual({
      index: 7,
      flags: 'XD',
      values: { comment: 'two words here', 'host-name': 'a "quoted" name', empty: '', bare: '', path: 'C:\\dir', tail: 'udhcp 1.37.0' },
    });
  });

  it('decodes hex and C-style escapes the console uses for bytes it will not print', () => {
    expect(unquote('"caf\\C3\\A9\\_bar\\tx"')).toBe('caf\u00c3\u00a9 bar\tx');
    expect(unquote('plain')).toBe('plain');
  });

  it('keeps flags separated by spaces and never takes a value word for a flag', () => {
    expect(tokenizeEntry('0 D E  mac-address=11:22:33:44:55:01 comment=x y').flags).toBe('DE');
    expect(tokenizeEntry('0 interface=ether1 identity="quoted" stray words').values).toEqual({ interface: 'ether1', identity: 'quoted' });
  });

  it('survives an unterminated quote and a line with no properties', () => {
    expect(tokenizeEntry('1 name="never closed').values).toEqual({ name: 'never closed' });
    expect(tokenizeEntry('2').values).toEqual({});
  });

  it('joins wrapped detail lines and separates items at blank lines and item numbers', () => {
    const text = ' 0 a=1 b="x y"\r\n   c=3\r\n\r\n 1 a=2\r\n 2 a=3\r\n';
    expect(parseEntries(text).map((entry) => entry.values)).toEqual([{ a: '1', b: 'x y', c: '3' }, { a: '2' }, { a: '3' }]);
  });

  it('attaches a ;;; comment line to the item below it', () => {
    const entries = parseEntries(';;; printer on the 2nd floor\r\n 0 address=10.0.0.5\r\n 1 address=10.0.0.6\r\n');
    expect(entries[0]?.comment).toBe('printer on the 2nd floor');
    expect(entries[1]?.comment).toBeUndefined();
  });
});

describe('console text', () => {
  it('drops log echo lines and prompts, keeps "#" table headers, accepts CR LF and lone CR', () => {
    const lines = consoleLines('Flags: D\r\n#   ADDRESS\r\n12:01:02 echo: system,info router rebooted\r\n[admin@gw] /ip arp> print\r0 D 10.0.0.1\r\n');
    expect(lines).toEqual(['Flags: D', '#   ADDRESS', '0 D 10.0.0.1', '']);
  });

  it('finds the error line RouterOS prints for a bad command', () => {
    expect(consoleError(consoleLines('bad command name leasez (line 1 column 14)\r\n'))).toBe('bad command name leasez (line 1 column 14)');
    expect(consoleError(consoleLines('expected end of command (line 1 column 22)\r\n'))).toBe('expected end of command (line 1 column 22)');
    expect(consoleError(consoleLines(' 0 address=10.0.0.1\r\n'))).toBeUndefined();
  });

  it('reads key: value prints with tabs, quotes and a leading note', () => {
    expect(parseKeyValue(';;; note\n\t\t  uptime: 1d\n   version: "6.1 (stable)"\n  cpu: Intel(R) Core(TM)\n')).toEqual({
      uptime: '1d',
      version: '6.1 (stable)',
      cpu: 'Intel(R) Core(TM)',
    });
  });

  it('places table cells by column even when a cell is empty', () => {
    const rows = parseColumnTable(
      ' #    ADDRESS         MAC-ADDRESS       INTERFACE\n 0 DC 10.0.0.1        AA:BB:CC:DD:EE:FF ether2\n 1    10.0.0.2                          ether4\n',
    );
    expect(rows).toEqual([
      { index: 0, flags: 'DC', values: { address: '10.0.0.1', 'mac-address': 'AA:BB:CC:DD:EE:FF', interface: 'ether2' } },
      { index: 1, flags: '', values: { address: '10.0.0.2', interface: 'ether4' } },
    ]);
  });
});

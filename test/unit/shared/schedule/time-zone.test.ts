import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { zoneNamesOf } from '../../../../scripts/data/zone-names.js';
import { IANA_ZONE_NAMES } from '../../../../src/shared/schedule/iana-zone-names.js';
import { isIanaZoneName, zoneNameProblem } from '../../../../src/shared/schedule/time-zone.js';

describe('the zones a schedule may use', () => {
  it.each(['UTC', 'Europe/London', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'US/Eastern'])('takes %s', (zone) => {
    expect(isIanaZoneName(zone)).toBe(true);
    expect(zoneNameProblem(zone)).toBeUndefined();
  });

  // "+05:00" is what ICU 78 (Node 22.23, 24.22) takes and ICU of Node 20 refuses: the list decides.
  it.each(['+05:00', '-03:30', 'UTC+5', 'GMT+5', 'Mars/Olympus', 'Europe/London ', 'Factory', ''])('refuses %j', (zone) => {
    expect(isIanaZoneName(zone)).toBe(false);
    expect(zoneNameProblem(zone)).toBe(`${JSON.stringify(zone)} is not an IANA time zone such as America/New_York or UTC`);
  });

  it('names the spelling of a name written in another case', () => {
    expect(zoneNameProblem('europe/london')).toBe('"europe/london" is not an IANA time zone; it is spelled Europe/London');
    expect(zoneNameProblem('utc')).toBe('"utc" is not an IANA time zone; it is spelled UTC');
  });

  // Run on each Node CI uses: a listed name the runtime cannot compute would be accepted and then fail at its slot.
  it(`lists only zones this Node (${process.version}, tz ${process.versions.tz}) can compute`, () => {
    expect(IANA_ZONE_NAMES.length).toBeGreaterThan(500);
    expect(IANA_ZONE_NAMES.filter((zone) => !IANAZone.isValidZone(zone))).toEqual([]);
  });

  it('is generated from the zone and link lines of tzdata.zi, without Factory', () => {
    const zi = [
      '# version 2099z',
      'R E 1981 ma - Mar lSu 1u 1 S',
      'Z Europe/Paris 0:9:21 - LMT 1891 Mar 16',
      'Z Factory 0 - -00',
      'L Etc/GMT GMT',
      'L Europe/Paris Europe/Monaco',
    ].join('\n');
    expect(zoneNamesOf(zi)).toEqual({ version: '2099z', names: ['Europe/Monaco', 'Europe/Paris', 'GMT'] });
    expect(() => zoneNamesOf('Z Europe/Paris 0 - LMT')).toThrow(/no "# version" line/);
  });
});

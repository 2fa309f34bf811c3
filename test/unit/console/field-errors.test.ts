/** The console splits the API's 422 messages ("<field>: <text>", joined by "; ") onto their fields. */
import { describe, expect, it } from 'vitest';
import { fieldErrors } from '../../../src/control-plane/console/web/field-errors.js';
import { validateScheduleWrite } from '../../../src/shared/schedule/rules.js';

describe('fieldErrors', () => {
  it('maps each part of a message to its field, nested paths included', () => {
    const errors = fieldErrors(
      'min_cvss: must be from 0 to 10, got 11; sites[0].subnet: expected IPv4 CIDR like 192.168.88.0/24; notification_group: must not be empty',
    );
    expect(Object.fromEntries(errors)).toEqual({
      min_cvss: 'must be from 0 to 10, got 11',
      'sites[0].subnet': 'expected IPv4 CIDR like 192.168.88.0/24',
      notification_group: 'must not be empty',
    });
  });

  it('keeps a "; " inside one field text, and ignores a message with no field', () => {
    expect(Object.fromEntries(fieldErrors('timezone: "Mars/Base" is not an IANA time zone; try UTC'))).toEqual({
      timezone: '"Mars/Base" is not an IANA time zone; try UTC',
    });
    expect(fieldErrors('The request body is not valid JSON.').size).toBe(0);
  });

  it('finds a field for every message the schedule rules produce', () => {
    const result = validateScheduleWrite({
      description: 'x',
      day_of_week: 9,
      time_of_day: '25:00',
      every_n_weeks: 1,
      timezone: 'Mars/Base',
      min_cvss: 8,
      warning_threshold: 7,
      sites: [{ id: 'nope', subnet: '10.0.0.0/33' }],
      notification_group: ' ',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // As the API joins them (src/control-plane/api/validate.ts).
    const errors = fieldErrors(result.errors.map((e) => e.message).join('; '));
    expect([...errors.keys()].sort()).toEqual(
      ['day_of_week', 'every_n_weeks', 'notification_group', 'sites[0].id', 'sites[0].subnet', 'time_of_day', 'timezone', 'warning_threshold'].sort(),
    );
  });
});

import { z } from 'zod';
import { validateScheduleWrite, type ScanScheduleWrite } from '../../shared/schedule/rules.js';

/** A schedule written in config.yaml: the API's schedule plus a stable id chosen by the operator. */
export interface LocalSchedule extends ScanScheduleWrite {
  id: string;
}

const idSchema = z.uuid();

/**
 * Local schedules follow the same rules as the REST API. Two conveniences for a standalone
 * site: `sites` defaults to this site's subnets, `timezone` to scheduler.timezone.
 */
export function parseLocalSchedules(
  entries: readonly Record<string, unknown>[],
  site: { subnets: readonly string[]; siteId: string | undefined; defaultTimezone: string },
): { schedules: LocalSchedule[]; errors: string[] } {
  const schedules: LocalSchedule[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const where = `schedules.${index}`;
    const { id, ...rest } = entry;
    if (!idSchema.safeParse(id).success) errors.push(`${where}.id: expected a UUID, got ${id === undefined ? 'nothing' : JSON.stringify(id)}`);
    else if (seen.has(id as string)) errors.push(`${where}.id: the id ${String(id)} is used twice`);
    else seen.add(id as string);

    const write: Record<string, unknown> = { description: '', notification_group: 'default', timezone: site.defaultTimezone, ...rest };
    let sitesMissing = false;
    if (write.sites === undefined) {
      if (site.siteId === undefined || site.subnets.length === 0) {
        errors.push(`${where}.sites: expected a list of {id, subnet}, or site_id and subnets at the top level to default to`);
        sitesMissing = true;
      } else {
        write.sites = site.subnets.map((subnet) => ({ id: site.siteId, subnet }));
      }
    }
    const result = validateScheduleWrite(write);
    if (!result.ok) {
      // The rule's message starts with its own path; ours names the config path instead.
      for (const error of result.errors) {
        if (sitesMissing && error.field.startsWith('sites')) continue;
        errors.push(`${where}.${error.field}: ${error.message.slice(error.message.indexOf(': ') + 2)}`);
      }
      return;
    }
    if (typeof id === 'string') schedules.push({ ...result.value, id });
  });
  return { schedules, errors };
}

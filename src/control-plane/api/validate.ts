/**
 * Request bodies and parameters through zod, with the API's split: a missing field, a wrong JSON
 * type or an unknown field is a malformed request (400); a well-formed value that breaks a rule
 * (range, pattern, cross-field) is 422. The schedule body keeps the agent's own rules module.
 */
import type { z } from 'zod';
import { validateScheduleWrite, type ScanScheduleWrite } from '../../shared/schedule/rules.js';
import { toFieldErrors, type FieldError } from '../../shared/zod-issues.js';
import { ApiError } from '../errors.js';

function raise(problems: FieldError[]): never {
  const malformed = problems.filter((p) => p.kind === 'type');
  const chosen = malformed.length > 0 ? malformed : problems;
  const message = chosen
    .slice(0, 5)
    .map((p) => p.message)
    .join('; ');
  if (malformed.length > 0)
    throw new ApiError(malformed.every((p) => p.code === 'parameter_missing') ? 'parameter_missing' : 'parameter_invalid', message, 400);
  throw new ApiError('parameter_invalid', message, 422);
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null) throw new ApiError('parameter_missing', 'body: a JSON object is required', 400);
  const result = schema.safeParse(body, { reportInput: true });
  if (!result.success) raise(toFieldErrors(result.error.issues));
  return result.data;
}

export function parseScheduleBody(body: unknown): ScanScheduleWrite {
  if (body === undefined || body === null) throw new ApiError('parameter_missing', 'body: a JSON object is required', 400);
  const result = validateScheduleWrite(body);
  if (result.ok) return result.value;
  raise(result.errors);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID names nothing: 404 with the resource's own code. */
export function pathId(value: string, notFound: 'schedule_not_found' | 'scan_not_found' | 'site_not_found'): string {
  if (!UUID.test(value)) throw new ApiError(notFound);
  return value.toLowerCase();
}

export const isUuid = (value: string): boolean => UUID.test(value);

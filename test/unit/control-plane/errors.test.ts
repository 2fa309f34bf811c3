import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError, apiErrors, controlPlaneErrors, ControlPlaneError, typeOfStatus } from '../../../src/control-plane/errors.js';

const doc = readFileSync(new URL('../../../docs/api-errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^### (\S+)$/gm)].map((match) => match[1]);
const section = (code: string) => doc.split(`### ${code}\n`)[1]?.split('\n### ')[0]?.split('\n## ')[0] ?? '';

describe('the control plane error catalog', () => {
  it('documents every code of both catalogs, and no code that does not exist', () => {
    expect(new Set(documented)).toEqual(new Set([...Object.keys(apiErrors), ...Object.keys(controlPlaneErrors)]));
    expect(documented).toHaveLength(new Set(documented).size);
  });

  it('documents each API code with its statuses and the same how-to-solve the server shows at doc_url', () => {
    for (const [code, entry] of Object.entries(apiErrors)) {
      expect(section(code), code).toContain(`HTTP ${entry.statuses.join(' or ')}.`);
      expect(section(code), code).toContain(`How to solve: ${entry.howToSolve}`);
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('documents each process code with its exit status and how to solve it', () => {
    for (const [code, entry] of Object.entries(controlPlaneErrors)) {
      expect(section(code), code).toContain(`Exit ${entry.exitCode}.`);
      expect(section(code), code).toContain('How to solve:');
    }
    expect(new ControlPlaneError('CP_ERR_SITE_NOT_FOUND').exitCode).toBe(66);
  });

  it('maps statuses to the seed types and refuses a status a code never has', () => {
    expect(new ApiError('parameter_invalid', 'x', 422)).toMatchObject({ status: 422, type: 'invalid_request_error' });
    expect(new ApiError('token_expired')).toMatchObject({ status: 401, type: 'authentication_error' });
    expect(new ApiError('scope_missing').type).toBe('permission_error');
    expect(new ApiError('scan_not_found').type).toBe('not_found_error');
    expect(new ApiError('scan_already_running').type).toBe('conflict_error');
    expect(new ApiError('internal_error').type).toBe('api_error');
    expect(typeOfStatus(415)).toBe('invalid_request_error');
    expect(() => new ApiError('invalid_json', 'x', 422)).toThrow(RangeError);
  });
});

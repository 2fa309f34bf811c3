import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildOpenApiDocument, scanWindowProperty } from '../../../src/control-plane/api/openapi/document.js';
import seedCopy from '../../../src/control-plane/api/openapi/seed-openapi.json' with { type: 'json' };

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument(undefined) as Json & { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
// The contract beside the repository (shared/api), as the issue names it.
const seed = parse(readFileSync(new URL('../../../../shared/api/seed-openapi.yaml', import.meta.url), 'utf8')) as typeof doc;

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.0 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('carries the seed as it is in shared/api', () => {
    expect(seedCopy).toEqual(seed);
  });

  it('is a superset of the seed: its four operations exactly, its schemas untouched but for last_run_at being nullable', () => {
    for (const [path, item] of Object.entries(seed.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const ours = doc.paths[path]?.[method] as Json;
        for (const [key, value] of Object.entries(operation)) {
          if (key === 'responses') {
            for (const [code, response] of Object.entries(value as Json)) expect((ours.responses as Json)[code], `${method} ${path} ${code}`).toEqual(response);
          } else {
            expect(ours[key], `${method} ${path} ${key}`).toEqual(value);
          }
        }
      }
    }
    for (const [name, schema] of Object.entries(seed.components.schemas)) {
      const ours = structuredClone(doc.components.schemas[name]) as Json;
      if (name === 'ScanSchedule') {
        expect(((ours.properties as Json).last_run_at as Json).nullable).toBe(true);
        delete ((ours.properties as Json).last_run_at as Json).nullable;
      }
      if (name === 'ScanSchedule' || name === 'ScanScheduleWrite') {
        // Additive: an optional window, never required.
        expect((ours.properties as Json).window, name).toEqual(scanWindowProperty);
        expect((ours.required as string[] | undefined) ?? []).not.toContain('window');
        delete (ours.properties as Json).window;
      }
      if (name === 'ErrorResponse') {
        delete ours.required;
        delete ((ours.properties as Json).code as Json).enum;
      }
      expect(ours, name).toEqual(schema);
    }
  });

  it('describes every endpoint of the API README', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'GET /scans/cve/scheduled',
        'POST /scans/cve/scheduled',
        'GET /scans/cve/scheduled/{scanScheduleId}',
        'PUT /scans/cve/scheduled/{scanScheduleId}',
        'DELETE /scans/cve/scheduled/{scanScheduleId}',
        'POST /scans/cve/scheduled/{scanScheduleId}/invoke',
        'DELETE /scans/cve/scheduled/{scanScheduleId}/invoke',
        'POST /scans/cve/scheduled/single-ip',
        'POST /scans/cve/scan/multiple-ips',
        'GET /scans/cve',
        'GET /scans/cve/{scan_id}',
        'GET /scans/cve/{scanScheduleId}/status',
        'POST /scans/cve/mac-address/cves',
        'GET /scans/cve/mitigation/{cve_id}',
        'GET /scans/cve/mac-address/cve/status',
        'POST /scans/cve/mac-address/cve/status',
        'GET /scans/cve/{scan_id}/report.json',
        'GET /openapi.json',
        'GET /healthz',
        'GET /readyz',
        'GET /docs/errors/{code}',
        'GET /sites',
        'GET /sites/{site_id}',
        'GET /cves/{cve_id}',
        'GET /overview',
        'GET /devices',
        'GET /devices/{mac}',
        'GET /cves/{cve_id}/devices',
        'POST /console/session',
        'GET /console/session',
        'DELETE /console/session',
        'DELETE /console/sessions',
        'GET /console/operators',
        'POST /console/operators',
        'DELETE /console/operators/{id}',
        'GET /console/tokens',
        'POST /console/tokens',
        'DELETE /console/tokens/{id}',
        'GET /scans/cve/{scan_id}/delta',
        'GET /scans/cve/{scan_id}/report.csv',
        'GET /scans/cve/{scan_id}/report.pdf',
      ].sort(),
    );
  });
});

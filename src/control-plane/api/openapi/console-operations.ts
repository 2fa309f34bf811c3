/** The console pages' read operations (routes overview.ts, sites.ts, devices.ts, reports.ts), added to /openapi.json by document.ts. */
import type { z } from 'zod';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../paging.js';
import * as shapes from '../shapes.js';
import type { Operation } from './document.js';

type Json = Record<string, unknown>;

const pathParam = (name: string, description: string, format?: string): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', ...(format ? { format } : {}) },
});
const scanParam = pathParam('scan_id', 'The unique identifier of the scan.', 'uuid');
const query = (name: string, description: string, format?: string): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', ...(format ? { format } : {}) },
});

export const consoleSchemas: Record<string, z.ZodType> = {
  SiteDetail: shapes.siteDetail,
  Overview: shapes.overview,
  Device: shapes.device,
  DeviceDetail: shapes.deviceDetail,
  CveDevice: shapes.cveDevice,
  ScanDelta: shapes.scanDelta,
};

const view = { tag: 'Console', scope: 'cve:view' } as const;

export const consoleOperations: Operation[] = [
  {
    ...view,
    method: 'get',
    path: '/overview',
    operationId: 'getOverview',
    summary: 'Sites Online, Feed Age per Site, Open Findings by Severity, What to Fix First, Recent Scans',
    responses: { 200: 'Overview' },
  },
  {
    ...view,
    method: 'get',
    path: '/devices',
    operationId: 'listDevices',
    summary: 'List Devices by MAC, with Their Last Address and Open CVEs',
    params: [
      query('site_id', 'Only devices last seen at this site.', 'uuid'),
      query('q', 'Only devices whose MAC, address, hostname or manufacturer contains this text (any case).'),
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'How many items a page holds.',
        schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
      },
      query('cursor', 'Where the page starts: the next cursor of the previous page, as returned.'),
    ],
    responses: { 200: 'Device[]', 400: null, 422: null },
  },
  {
    ...view,
    method: 'get',
    path: '/devices/{mac}',
    operationId: 'getDevice',
    summary: 'Get a Device by MAC: Vendor, Addresses over Time, Services, Current CVEs, Marks',
    params: [pathParam('mac', 'The MAC address, in any notation the API takes (4C:5E:0C:12:34:56, 4c-5e-0c-12-34-56, 4c5e.0c12.3456).')],
    responses: { 200: 'DeviceDetail', 404: null },
  },
  {
    ...view,
    method: 'get',
    path: '/cves/{cve_id}/devices',
    operationId: 'listCveDevices',
    summary: "The Organization's Devices with a CVE",
    params: [pathParam('cve_id', 'A CVE id such as CVE-2018-14847.')],
    responses: { 200: 'CveDevice[]', 404: null, 422: null },
  },
  {
    ...view,
    method: 'get',
    path: '/scans/cve/{scan_id}/delta',
    operationId: 'getScanDelta',
    summary: 'Findings New, Resolved and Unchanged since the Previous Finished Scan of the Same Schedule',
    params: [scanParam],
    responses: { 200: 'ScanDelta', 404: null },
  },
  {
    ...view,
    method: 'get',
    path: '/scans/cve/{scan_id}/report.csv',
    operationId: 'getScanReportCsv',
    summary: "A Finished Scan's CVEs as CSV, in Fix-First Order",
    params: [scanParam],
    responses: { 200: 'text/csv', 404: null, 409: null },
  },
  {
    ...view,
    method: 'get',
    path: '/scans/cve/{scan_id}/report.pdf',
    operationId: 'getScanReportPdf',
    summary: "A Finished Scan's Report as PDF: Summary, Schedule and Scope, Feed Age, Hosts, CVEs Fix-First, Marks",
    params: [scanParam],
    responses: { 200: 'application/pdf', 404: null, 409: null },
  },
];

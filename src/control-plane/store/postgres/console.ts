/** The console pages' read queries on PostgreSQL (ConsoleStore), answering what store/sqlite/console.ts answers. */
import type { ConsoleStore, RouterInventoryRow } from '../types.js';
import { fromJson } from '../json.js';
import {
  factsFields,
  findingViewSelect,
  hydrateFacts,
  hydrateFinding,
  hydrateHost,
  hydrateScan,
  scanFields,
  type RawFacts,
  type RawFindingView,
  type RawHost,
  type RawScan,
} from '../rows.js';
import type { PgDb } from './db.js';

const TERMINAL = "('completed', 'partial', 'failed')";
const hostFields = 'h.id, h.scan_id, h.site_id, h.ip, h.mac, h.hostname, h.manufacturer, h.os, h.sources, h.open_ports, h.cve_count, h.created_at';

/**
 * Each device's host row in the newest finished scan that saw it: a device is its MAC, or its site
 * and address when the router knew no MAC for it. $1 is the organization, $2 a MAC or null.
 */
const latestHosts = `
  SELECT id FROM (
    SELECT h.id, ROW_NUMBER() OVER (
      PARTITION BY COALESCE(h.mac, h.site_id || '/' || h.ip) ORDER BY s.created_at DESC, s.id DESC, h.created_at DESC
    ) AS n
    FROM hosts h JOIN scans s ON s.id = h.scan_id
    WHERE s.org_id = $1 AND s.status IN ${TERMINAL} AND ($2::text IS NULL OR h.mac = $2)
  ) AS ranked WHERE n = 1`;

export function pgConsole(db: PgDb): ConsoleStore {
  return {
    async latestInventory(siteId) {
      const [row] = await db.query<{ site_id: string; at: string; body: string }>(
        'SELECT site_id, at, body FROM inventories WHERE site_id = $1 ORDER BY id DESC LIMIT 1',
        [siteId],
      );
      if (!row) return undefined;
      return { site_id: row.site_id, at: row.at, ...fromJson<Omit<RouterInventoryRow, 'sub_scan_id' | 'site_id' | 'at'>>(row.body) };
    },
    async lastScanOfSite(orgId, siteId) {
      const [row] = await db.query<RawScan>(
        `SELECT ${scanFields} FROM scans WHERE org_id = $1 AND id IN (SELECT scan_id FROM sub_scans WHERE site_id = $2 AND status != 'skipped')
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        [orgId, siteId],
      );
      return row && hydrateScan(row);
    },
    async currentFacts(orgId) {
      // SQLite answers these in its plan's order; callers sort them. Here in id order, so two calls agree.
      const rows = await db.query<RawFacts>(
        `SELECT ${factsFields}
         FROM findings f JOIN (${latestHosts}) l ON l.id = f.host_id JOIN hosts h ON h.id = f.host_id JOIN cves c ON c.id = f.cve_id
         WHERE f.org_id = $1 ORDER BY f.id`,
        [orgId, null],
      );
      return rows.map(hydrateFacts);
    },
    async currentFindings(orgId, filter = {}) {
      const rows = await db.query<RawFindingView>(
        `${findingViewSelect} JOIN (${latestHosts}) l ON l.id = f.host_id WHERE f.org_id = $1 AND ($3::text IS NULL OR f.cve_id = $3) ORDER BY f.id`,
        [orgId, filter.mac ?? null, filter.cveId ?? null],
      );
      return rows.map(hydrateFinding);
    },
    async devices(orgId) {
      const rows = await db.query<RawHost>(
        `SELECT ${hostFields.replaceAll('h.', '')} FROM (
           SELECT ${hostFields}, ROW_NUMBER() OVER (PARTITION BY h.mac ORDER BY s.created_at DESC, s.id DESC, h.created_at DESC) AS n
           FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE s.org_id = $1 AND h.mac IS NOT NULL
         ) AS ranked WHERE n = 1 ORDER BY created_at DESC, mac`,
        [orgId],
      );
      return rows.map(hydrateHost);
    },
    async hostsOfMac(orgId, mac) {
      const rows = await db.query<RawHost>(
        `SELECT ${hostFields} FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE h.mac = $1 AND s.org_id = $2 ORDER BY h.created_at, h.id`,
        [mac, orgId],
      );
      return rows.map(hydrateHost);
    },
    async previousScan(scan) {
      if (scan.schedule_id === null) return undefined;
      const [row] = await db.query<RawScan>(
        `SELECT ${scanFields} FROM scans WHERE org_id = $1 AND schedule_id = $2 AND status IN ${TERMINAL}
           AND (created_at < $3 OR (created_at = $3 AND id < $4))
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        [scan.org_id, scan.schedule_id, scan.created_at, scan.id],
      );
      return row && hydrateScan(row);
    },
  };
}

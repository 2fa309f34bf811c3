/** The console pages' read queries (ConsoleStore): sites' routers, devices by MAC, current findings, scan deltas. */
import type { Db } from '../../../shared/sqlite.js';
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
} from '../rows.js';

const TERMINAL = "('completed', 'partial', 'failed')";
const hostFields = 'h.id, h.scan_id, h.site_id, h.ip, h.mac, h.hostname, h.manufacturer, h.os, h.sources, h.open_ports, h.cve_count, h.created_at';

/**
 * Each device's host row in the newest finished scan that saw it: a device is its MAC, or its site
 * and address when the router knew no MAC for it (addresses repeat across sites).
 */
const latestHosts = `
  SELECT id FROM (
    SELECT h.id, ROW_NUMBER() OVER (
      PARTITION BY COALESCE(h.mac, h.site_id || '/' || h.ip) ORDER BY s.created_at DESC, s.id DESC, h.created_at DESC
    ) AS n
    FROM hosts h JOIN scans s ON s.id = h.scan_id
    WHERE s.org_id = @org AND s.status IN ${TERMINAL} AND (@mac IS NULL OR h.mac = @mac)
  ) WHERE n = 1`;

export function sqliteConsole(db: Db): ConsoleStore {
  const inventory = db.prepare<[string], { sub_scan_id: string | null; site_id: string; at: string; body: string }>(
    'SELECT sub_scan_id, site_id, at, body FROM inventories WHERE site_id = ? ORDER BY id DESC LIMIT 1',
  );
  const lastScan = db.prepare<[string, string], Parameters<typeof hydrateScan>[0]>(
    `SELECT ${scanFields} FROM scans WHERE org_id = ? AND id IN (SELECT scan_id FROM sub_scans WHERE site_id = ? AND status != 'skipped')
     ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  const current = db.prepare<{ org: string; mac: string | null; cve: string | null }, RawFindingView>(
    // Joined rather than `IN (...)`: the newest hosts are materialized once, then their findings read by findings_by_host.
    `${findingViewSelect} JOIN (${latestHosts}) l ON l.id = f.host_id WHERE f.org_id = @org AND (@cve IS NULL OR f.cve_id = @cve) ORDER BY f.id`,
  );
  const facts = db.prepare<{ org: string; mac: null }, RawFacts>(
    `SELECT ${factsFields}
     FROM findings f JOIN (${latestHosts}) l ON l.id = f.host_id JOIN hosts h ON h.id = f.host_id JOIN cves c ON c.id = f.cve_id
     WHERE f.org_id = @org`,
  );
  const devices = db.prepare<[string], RawHost>(
    `SELECT ${hostFields.replaceAll('h.', '')} FROM (
       SELECT ${hostFields}, ROW_NUMBER() OVER (PARTITION BY h.mac ORDER BY s.created_at DESC, s.id DESC, h.created_at DESC) AS n
       FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE s.org_id = ? AND h.mac IS NOT NULL
     ) WHERE n = 1 ORDER BY created_at DESC, mac`,
  );
  const ofMac = db.prepare<[string, string], RawHost>(
    `SELECT ${hostFields} FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE h.mac = ? AND s.org_id = ? ORDER BY h.created_at, h.id`,
  );
  const previous = db.prepare<{ org: string; schedule: string; id: string; at: string }, Parameters<typeof hydrateScan>[0]>(
    `SELECT ${scanFields} FROM scans WHERE org_id = @org AND schedule_id = @schedule AND status IN ${TERMINAL}
       AND (created_at < @at OR (created_at = @at AND id < @id))
     ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  return {
    async latestInventory(siteId) {
      const row = inventory.get(siteId);
      if (!row) return undefined;
      return { site_id: row.site_id, at: row.at, ...fromJson<Omit<RouterInventoryRow, 'sub_scan_id' | 'site_id' | 'at'>>(row.body) };
    },
    async lastScanOfSite(orgId, siteId) {
      const row = lastScan.get(orgId, siteId);
      return row && hydrateScan(row);
    },
    async currentFacts(orgId) {
      return facts.all({ org: orgId, mac: null }).map(hydrateFacts);
    },
    async currentFindings(orgId, filter = {}) {
      return current.all({ org: orgId, mac: filter.mac ?? null, cve: filter.cveId ?? null }).map(hydrateFinding);
    },
    async devices(orgId) {
      return devices.all(orgId).map(hydrateHost);
    },
    async hostsOfMac(orgId, mac) {
      return ofMac.all(mac, orgId).map(hydrateHost);
    },
    async previousScan(scan) {
      if (scan.schedule_id === null) return undefined;
      const row = previous.get({ org: scan.org_id, schedule: scan.schedule_id, id: scan.id, at: scan.created_at });
      return row && hydrateScan(row);
    },
  };
}

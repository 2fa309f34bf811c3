/**
 * Alerts on change on SQLite (the rules: ../change-watch.ts), run inside the ingest's transaction
 * when a run finishes or an inventory arrives. Every state move is a conditional write whose
 * answer says whether it moved, as on PostgreSQL, so only a real change queues an alert.
 */
import type { Db } from '../../../shared/sqlite.js';
import type { CveRecord } from '../../../protocol/index.js';
import { uuidv7 } from '../uuidv7.js';
import {
  deviceData,
  findingData,
  observe,
  routerData,
  runJudgement,
  type ChangeCve,
  type ChangeDevice,
  type ChangeEvent,
  type FinishedRun,
  type RouterSeen,
} from '../change-watch.js';

export function changeWatch(db: Db) {
  const hostsOf = db.prepare<[string], ChangeDevice>('SELECT ip, mac, hostname FROM hosts WHERE sub_scan_id = ? ORDER BY ip');
  const findingsOf = db.prepare<[string], { ip: string; cve_id: string; score: number; severity: CveRecord['severity']; distro_status: string | null }>(
    'SELECT h.ip, f.cve_id, f.score, c.severity, f.distro_status FROM findings f JOIN hosts h ON h.id = f.host_id JOIN cves c ON c.id = f.cve_id WHERE f.sub_scan_id = ?',
  );
  const newDevice = db.prepare(
    'INSERT INTO site_devices (org_id, site_id, device, first_seen_at, scan_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, site_id, device) DO NOTHING',
  );
  // Answers a row only when the state moved: inserted (opened 1) or reopened (opened > 1); an open one stays as it is.
  const open = db.prepare<[{ org: string; site: string; device: string; cve: string; at: string; scan: string }], { opened: number }>(
    `INSERT INTO finding_states (org_id, site_id, device, cve_id, state, opened, first_seen_at, opened_at, closed_at, scan_id)
     VALUES (@org, @site, @device, @cve, 'open', 1, @at, @at, NULL, @scan)
     ON CONFLICT (org_id, site_id, device, cve_id) DO UPDATE SET state = 'open', opened = finding_states.opened + 1, opened_at = excluded.opened_at,
       closed_at = NULL, scan_id = excluded.scan_id
     WHERE finding_states.state = 'closed'
     RETURNING opened`,
  );
  const close = db.prepare<[{ at: string; scan: string; org: string; site: string; device: string; cves: string }], { cve_id: string }>(
    `UPDATE finding_states SET state = 'closed', closed_at = @at, scan_id = @scan
     WHERE org_id = @org AND site_id = @site AND device = @device AND state = 'open' AND cve_id NOT IN (SELECT value FROM json_each(@cves))
     RETURNING cve_id`,
  );
  const cveOf = db.prepare<[string], ChangeCve>('SELECT id, score, severity FROM cves WHERE id = ?');
  const firstRouter = db.prepare(
    'INSERT INTO site_routers (site_id, org_id, routeros_version, previous_version, updated_at) VALUES (?, ?, ?, NULL, ?) ON CONFLICT (site_id) DO NOTHING',
  );
  const routerChanged = db.prepare<[{ version: string; at: string; site: string }], { previous_version: string }>(
    `UPDATE site_routers SET previous_version = routeros_version, routeros_version = @version, updated_at = @at
     WHERE site_id = @site AND routeros_version <> @version RETURNING previous_version`,
  );
  const alert = db.prepare('INSERT INTO change_alerts (id, org_id, site_id, scan_id, event, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');

  const raise = (scope: { org_id: string; site_id: string; at: string }, scanId: string, event: ChangeEvent, data: object) =>
    alert.run(uuidv7(), scope.org_id, scope.site_id, scanId, event, JSON.stringify(data), scope.at);

  return {
    /** Compares a finished run with its site's state; answers the number of alerts raised. */
    run(run: FinishedRun): number {
      const { judge, close: mayClose } = runJudgement(run);
      if (!judge) return 0;
      let raised = 0;
      for (const seen of observe(hostsOf.all(run.sub_scan_id), findingsOf.all(run.sub_scan_id))) {
        if (newDevice.run(run.org_id, run.site_id, seen.key, run.at, run.scan_id).changes === 1) {
          raise(run, run.scan_id, 'device.new', deviceData(seen.device));
          raised++;
        }
        for (const cve of [...seen.cves.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
          const moved = open.get({ org: run.org_id, site: run.site_id, device: seen.key, cve: cve.id, at: run.at, scan: run.scan_id });
          if (moved === undefined) continue;
          raise(run, run.scan_id, moved.opened === 1 ? 'finding.new' : 'finding.resurfaced', findingData(seen.device, cve));
          raised++;
        }
        if (!mayClose) continue;
        for (const { cve_id } of close.all({
          at: run.at,
          scan: run.scan_id,
          org: run.org_id,
          site: run.site_id,
          device: seen.key,
          cves: JSON.stringify([...seen.cves.keys()]),
        })) {
          const cve = cveOf.get(cve_id) ?? { id: cve_id, score: 0, severity: 'NONE' as const };
          raise(run, run.scan_id, 'finding.closed', findingData(seen.device, cve));
          raised++;
        }
      }
      return raised;
    },
    /** Compares an inventory's router version with the site's last; answers the number of alerts raised (0 or 1). */
    router(seen: RouterSeen): number {
      const version = seen.router.routeros_version;
      // A version the router did not tell is no change.
      if (version === '') return 0;
      if (firstRouter.run(seen.site_id, seen.org_id, version, seen.at).changes === 1) return 0;
      const moved = routerChanged.get({ version, at: seen.at, site: seen.site_id });
      if (moved === undefined || seen.scan_id === null) return 0;
      raise(seen, seen.scan_id, 'router.version_changed', routerData(seen, moved.previous_version));
      return 1;
    },
  };
}

/**
 * Alerts on change on PostgreSQL (the rules: ../change-watch.ts), in the ingest's transaction
 * after the batch's rows are written. Several nodes share the state, so every move is a
 * conditional write that answers only what it moved: a device inserted unless present, a CVE's
 * state opened only from closed or absent (ON CONFLICT ... WHERE, which re-reads a row another
 * transaction just moved), closed only from open (the open rows locked first, in key order), a
 * router version moved only when it differs. Two nodes judging the same change: the second waits
 * on the first's row, then finds it moved and raises nothing.
 */
import type { CveRecord } from '../../../protocol/index.js';
import { uuidv7 } from '../uuidv7.js';
import {
  compare,
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
import type { Queryable } from './db.js';
import { insertRows } from './bulk.js';

interface Alert {
  id: string;
  org_id: string;
  site_id: string;
  scan_id: string;
  event: ChangeEvent;
  data: string;
  created_at: string;
}

const alertOf = (scope: { org_id: string; site_id: string; at: string }, scanId: string, event: ChangeEvent, data: object): Alert => ({
  id: uuidv7(),
  org_id: scope.org_id,
  site_id: scope.site_id,
  scan_id: scanId,
  event,
  data: JSON.stringify(data),
  created_at: scope.at,
});

async function judgeRun(client: Queryable, run: FinishedRun): Promise<Alert[]> {
  const { judge, close: mayClose } = runJudgement(run);
  if (!judge) return [];
  // One connection answers one query at a time: in turn.
  const hosts = await client.query<ChangeDevice>('SELECT ip, mac, hostname FROM hosts WHERE sub_scan_id = $1 ORDER BY ip', [run.sub_scan_id]);
  const findings = await client.query<{ ip: string; cve_id: string; score: number; severity: CveRecord['severity']; distro_status: string | null }>(
    'SELECT h.ip, f.cve_id, f.score, c.severity, f.distro_status FROM findings f JOIN hosts h ON h.id = f.host_id JOIN cves c ON c.id = f.cve_id WHERE f.sub_scan_id = $1',
    [run.sub_scan_id],
  );
  const seen = observe(hosts.rows, findings.rows);
  if (seen.length === 0) return [];
  const byKey = new Map(seen.map((s) => [s.key, s]));
  const alerts: Alert[] = [];
  const scope = { org_id: run.org_id, site_id: run.site_id };

  // Closed first: the device's open CVEs the run did not report, their rows locked in key order.
  if (mayClose) {
    const open = await client.query<{ device: string; cve_id: string }>(
      `SELECT device, cve_id FROM finding_states WHERE org_id = $1 AND site_id = $2 AND device = ANY($3::text[]) AND state = 'open'
       ORDER BY device, cve_id FOR UPDATE`,
      [run.org_id, run.site_id, seen.map((s) => s.key)],
    );
    const gone = open.rows.filter((row) => !byKey.get(row.device)?.cves.has(row.cve_id));
    if (gone.length > 0) {
      const closed = await client.query<{ device: string; cve_id: string; score: number | null; severity: CveRecord['severity'] | null }>(
        `WITH moved AS (
           UPDATE finding_states s SET state = 'closed', closed_at = $3, scan_id = $4
           FROM unnest($5::text[], $6::text[]) AS k (device, cve_id)
           WHERE s.org_id = $1 AND s.site_id = $2 AND s.device = k.device AND s.cve_id = k.cve_id AND s.state = 'open'
           RETURNING s.device, s.cve_id)
         SELECT m.device, m.cve_id, c.score, c.severity FROM moved m LEFT JOIN cves c ON c.id = m.cve_id ORDER BY m.device, m.cve_id`,
        [run.org_id, run.site_id, run.at, run.scan_id, gone.map((g) => g.device), gone.map((g) => g.cve_id)],
      );
      for (const row of closed.rows) {
        const cve: ChangeCve = { id: row.cve_id, score: row.score ?? 0, severity: row.severity ?? 'NONE' };
        alerts.push(
          alertOf({ ...scope, at: run.at }, run.scan_id, 'finding.closed', findingData((byKey.get(row.device) as (typeof seen)[number]).device, cve)),
        );
      }
    }
  }

  const added = await insertRows<{ device: string }>(
    client,
    'site_devices',
    ['org_id', 'site_id', 'device', 'first_seen_at', 'scan_id'],
    seen.map((s) => ({ ...scope, device: s.key, first_seen_at: run.at, scan_id: run.scan_id })),
    'ON CONFLICT (org_id, site_id, device) DO NOTHING RETURNING device',
  );
  const opens = seen.flatMap((s) =>
    [...s.cves.keys()].sort(compare).map((cve_id) => ({
      ...scope,
      device: s.key,
      cve_id,
      state: 'open',
      opened: 1,
      first_seen_at: run.at,
      opened_at: run.at,
      closed_at: null,
      scan_id: run.scan_id,
    })),
  );
  const opened = await insertRows<{ device: string; cve_id: string; opened: number }>(
    client,
    'finding_states',
    ['org_id', 'site_id', 'device', 'cve_id', 'state', 'opened', 'first_seen_at', 'opened_at', 'closed_at', 'scan_id'],
    opens,
    `ON CONFLICT (org_id, site_id, device, cve_id) DO UPDATE SET state = 'open', opened = finding_states.opened + 1, opened_at = excluded.opened_at,
       closed_at = NULL, scan_id = excluded.scan_id
     WHERE finding_states.state = 'closed'
     RETURNING device, cve_id, opened`,
  );
  const isNew = new Set(added.map((row) => row.device));
  const movedOf = new Map(opened.map((row) => [`${row.device}\n${row.cve_id}`, row.opened]));
  // In the run's device order, each device's own alert before its findings'.
  for (const s of seen) {
    if (isNew.has(s.key)) alerts.push(alertOf({ ...scope, at: run.at }, run.scan_id, 'device.new', deviceData(s.device)));
    for (const cve of [...s.cves.values()].sort((a, b) => compare(a.id, b.id))) {
      const times = movedOf.get(`${s.key}\n${cve.id}`);
      if (times === undefined) continue;
      alerts.push(alertOf({ ...scope, at: run.at }, run.scan_id, times === 1 ? 'finding.new' : 'finding.resurfaced', findingData(s.device, cve)));
    }
  }
  return alerts;
}

async function judgeRouter(client: Queryable, seen: RouterSeen): Promise<Alert[]> {
  const version = seen.router.routeros_version;
  // A version the router did not tell is no change.
  if (version === '') return [];
  const first = await client.query(
    'INSERT INTO site_routers (site_id, org_id, routeros_version, previous_version, updated_at) VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (site_id) DO NOTHING',
    [seen.site_id, seen.org_id, version, seen.at],
  );
  if (first.rowCount === 1) return [];
  // The SET reads the row as it was: previous_version answers the version this inventory replaced.
  const moved = await client.query<{ previous_version: string }>(
    `UPDATE site_routers SET previous_version = routeros_version, routeros_version = $1, updated_at = $2
     WHERE site_id = $3 AND routeros_version <> $1 RETURNING previous_version`,
    [version, seen.at, seen.site_id],
  );
  const previous = moved.rows[0]?.previous_version;
  if (previous === undefined || seen.scan_id === null) return [];
  return [alertOf(seen, seen.scan_id, 'router.version_changed', routerData(seen, previous))];
}

/** Judges the batch's finished runs and inventories in report order; answers the number of alerts raised. */
export async function watchChanges(client: Queryable, judged: readonly ({ run: FinishedRun } | { router: RouterSeen })[]): Promise<number> {
  const alerts: Alert[] = [];
  for (const item of judged) alerts.push(...('run' in item ? await judgeRun(client, item.run) : await judgeRouter(client, item.router)));
  await insertRows(client, 'change_alerts', ['id', 'org_id', 'site_id', 'scan_id', 'event', 'data', 'created_at'], alerts);
  return alerts.length;
}

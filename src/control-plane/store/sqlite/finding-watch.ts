/**
 * Alerts when an open finding enters KEV or becomes exposed. Each device's CVE keeps its last
 * KEV/exposure state (finding_watch); a finding that turns either on, compared with that state,
 * queues one alert (finding_alerts), written in the ingest's transaction, so a replayed report
 * (ingested at most once) never alerts twice. A first sighting only records the state: a new
 * finding is told by its scan's own notification. A finding patched by its distribution, or
 * under an accepted or mitigated mark, is not open: it neither alerts nor moves the state.
 * A KEV catalog update between scans (the feed hub) raises the same alert at once, from the
 * device's latest finding of the CVE, under the same rules (kevCatalogWatch).
 */
import type { Db } from '../../../shared/sqlite.js';
import type { Finding } from '../../../protocol/index.js';
import { deviceKey, markInForce, type MarkStatus } from '../../../shared/marks.js';
import { uuidv7 } from '../uuidv7.js';

export type AlertKind = 'kev' | 'exposed';

/** A catalog entry in a finding's `kev` shape. */
export type KevEntry = NonNullable<Finding['kev']>;

type MarkRow = { status: MarkStatus; cpe: string | null; expires_at: string | null; created_at: string };

function marksOf(db: Db) {
  return db.prepare<[string, string, string], MarkRow>(
    'SELECT status, cpe, expiration_date AS expires_at, created_at FROM cve_marks WHERE org_id = ? AND mac = ? AND cve_id = ? ORDER BY created_at DESC, rowid DESC',
  );
}

/** Whether a finding is open: not patched by its distribution, not under an accepted or mitigated mark in force. */
function isOpen(
  marks: ReturnType<typeof marksOf>,
  f: { org_id: string; mac: string | null; cve_id: string; cpe: string; distro_status: string | null | undefined },
  at: string,
): boolean {
  if (f.distro_status === 'fixed' || f.distro_status === 'not-affected') return false;
  return f.mac === null || markInForce(marks.all(f.org_id, f.mac, f.cve_id), { cpe: f.cpe }, new Date(at)) === undefined;
}

/** The device a finding's state is kept for. Addresses repeat across sites; a MAC is the device wherever it is. */
function deviceOf(siteId: string, host: { mac: string | null; ip: string }): string {
  return host.mac === null ? `${siteId} ${deviceKey(host)}` : host.mac;
}

export function findingWatch(db: Db) {
  const last = db.prepare<[string, string, string], { kev: number; exposed: number }>(
    'SELECT kev, exposed FROM finding_watch WHERE org_id = ? AND device = ? AND cve_id = ?',
  );
  const save = db.prepare(
    `INSERT INTO finding_watch (org_id, device, cve_id, kev, exposed, updated_at) VALUES (@org, @device, @cve, @kev, @exposed, @at)
     ON CONFLICT (org_id, device, cve_id) DO UPDATE SET kev = excluded.kev, exposed = excluded.exposed, updated_at = excluded.updated_at`,
  );
  const marks = marksOf(db);
  const alert = db.prepare('INSERT INTO finding_alerts (id, org_id, scan_id, finding_id, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)');

  /** Records the finding's state; returns the alerts it raised. */
  return function watch(finding: { org_id: string; site_id: string; scan_id: string; id: string }, m: Finding, at: string): AlertKind[] {
    // An agent before these fields says nothing about them: nothing changes.
    if (m.kev === undefined && m.exposure === undefined) return [];
    if (!isOpen(marks, { org_id: finding.org_id, mac: m.mac, cve_id: m.cve.id, cpe: m.cpe, distro_status: m.distro?.status }, at)) return [];
    const device = deviceOf(finding.site_id, m);
    const before = last.get(finding.org_id, device, m.cve.id);
    const kev = m.kev === undefined ? (before?.kev ?? 0) : m.kev === null ? 0 : 1;
    // An unknown exposure (no router read) keeps the last known state: it is not a change.
    const exposed = m.exposure === undefined || m.exposure.state === 'unknown' ? (before?.exposed ?? 0) : m.exposure.state === 'yes' ? 1 : 0;
    save.run({ org: finding.org_id, device, cve: m.cve.id, kev, exposed, at });
    if (before === undefined) return [];
    const raised: AlertKind[] = [];
    if (kev === 1 && before.kev === 0) raised.push('kev');
    if (exposed === 1 && before.exposed === 0) raised.push('exposed');
    for (const kind of raised) alert.run(uuidv7(), finding.org_id, finding.scan_id, finding.id, kind, at);
    return raised;
  };
}

/**
 * Alerts for the catalog's CVEs that each device's state still holds as not in KEV: the device's
 * latest finding of the CVE, when open, raises one `kev` alert and moves the state in the same
 * transaction, so the alert fires once and the next scan reporting it in KEV does not fire again.
 * Returns the number of alerts raised.
 */
export function kevCatalogWatch(db: Db) {
  const notInKev = db.prepare<[string], { org_id: string; device: string; cve_id: string }>(
    'SELECT org_id, device, cve_id FROM finding_watch WHERE kev = 0 AND cve_id IN (SELECT value FROM json_each(?))',
  );
  // The device's latest finding of the CVE, found through its hosts (hosts_by_mac); a device
  // without a MAC is a site's address (a scan of the hosts: such devices are the few).
  const cols = 'SELECT f.id, f.scan_id, f.mac, f.cpe, f.distro_status FROM hosts h JOIN findings f ON f.host_id = h.id';
  const order = 'ORDER BY f.created_at DESC, f.rowid DESC LIMIT 1';
  type Latest = { id: string; scan_id: string; mac: string | null; cpe: string; distro_status: string | null };
  const byMac = db.prepare<[string, string, string], Latest>(`${cols} WHERE h.mac = ? AND f.org_id = ? AND f.cve_id = ? ${order}`);
  const byAddress = db.prepare<[string, string, string, string], Latest>(
    `${cols} WHERE h.site_id = ? AND h.ip = ? AND h.mac IS NULL AND f.org_id = ? AND f.cve_id = ? ${order}`,
  );
  const latestOf = (org: string, device: string, cve: string): Latest | undefined => {
    const space = device.lastIndexOf(' ');
    return space === -1 ? byMac.get(device, org, cve) : byAddress.get(device.slice(0, space), device.slice(space + 1), org, cve);
  };
  const marks = marksOf(db);
  const save = db.prepare('UPDATE finding_watch SET kev = 1, updated_at = ? WHERE org_id = ? AND device = ? AND cve_id = ?');
  const alert = db.prepare("INSERT INTO finding_alerts (id, org_id, scan_id, finding_id, kind, created_at, kev) VALUES (?, ?, ?, ?, 'kev', ?, ?)");
  return db.transaction((catalog: ReadonlyMap<string, KevEntry>, at: string): number => {
    let raised = 0;
    for (const state of notInKev.all(JSON.stringify([...catalog.keys()]))) {
      const latest = latestOf(state.org_id, state.device, state.cve_id);
      if (latest === undefined || !isOpen(marks, { ...latest, org_id: state.org_id, cve_id: state.cve_id }, at)) continue;
      save.run(at, state.org_id, state.device, state.cve_id);
      alert.run(uuidv7(), state.org_id, latest.scan_id, latest.id, at, JSON.stringify(catalog.get(state.cve_id)));
      raised++;
    }
    return raised;
  });
}

/**
 * Alerts when an open finding enters KEV or becomes exposed. Each device's CVE keeps its last
 * KEV/exposure state (finding_watch); a finding that turns either on, compared with that state,
 * queues one alert (finding_alerts), written in the ingest's transaction, so a replayed report
 * (ingested at most once) never alerts twice. A first sighting only records the state: a new
 * finding is told by its scan's own notification. A finding patched by its distribution, or
 * under an accepted or mitigated mark, is not open: it neither alerts nor moves the state.
 */
import type { Db } from '../../../shared/sqlite.js';
import type { Finding } from '../../../protocol/index.js';
import { deviceKey, markInForce, type MarkStatus } from '../../../shared/marks.js';
import { uuidv7 } from './uuidv7.js';

export type AlertKind = 'kev' | 'exposed';

export function findingWatch(db: Db) {
  const last = db.prepare<[string, string, string], { kev: number; exposed: number }>(
    'SELECT kev, exposed FROM finding_watch WHERE org_id = ? AND device = ? AND cve_id = ?',
  );
  const save = db.prepare(
    `INSERT INTO finding_watch (org_id, device, cve_id, kev, exposed, updated_at) VALUES (@org, @device, @cve, @kev, @exposed, @at)
     ON CONFLICT (org_id, device, cve_id) DO UPDATE SET kev = excluded.kev, exposed = excluded.exposed, updated_at = excluded.updated_at`,
  );
  const marks = db.prepare<[string, string, string], { status: MarkStatus; cpe: string | null; expires_at: string | null; created_at: string }>(
    'SELECT status, cpe, expiration_date AS expires_at, created_at FROM cve_marks WHERE org_id = ? AND mac = ? AND cve_id = ? ORDER BY created_at DESC, rowid DESC',
  );
  const alert = db.prepare('INSERT INTO finding_alerts (id, org_id, scan_id, finding_id, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)');

  /** Records the finding's state; returns the alerts it raised. */
  return function watch(finding: { org_id: string; site_id: string; scan_id: string; id: string }, m: Finding, at: string): AlertKind[] {
    // An agent before these fields says nothing about them: nothing changes.
    if (m.kev === undefined && m.exposure === undefined) return [];
    if (m.distro?.status === 'fixed' || m.distro?.status === 'not-affected') return [];
    if (m.mac !== null && markInForce(marks.all(finding.org_id, m.mac, m.cve.id), { cpe: m.cpe }, new Date(at)) !== undefined) return [];
    // Addresses repeat across sites; a MAC is the device wherever it is.
    const device = m.mac === null ? `${finding.site_id} ${deviceKey(m)}` : m.mac;
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

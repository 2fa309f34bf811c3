/**
 * Alerts when an open finding enters KEV or becomes exposed (the rules are sqlite/finding-watch.ts's):
 * each device's CVE keeps its last KEV/exposure state (finding_watch); a finding that turns either
 * on, compared with that state, queues one alert (finding_alerts) in the ingest's transaction. Here
 * a whole batch is judged at once: the states and marks it needs are read in two statements, the
 * findings are judged in order in memory (a device's CVE seen twice in a batch compares with its
 * first sighting), and the new states and alerts are written in two more.
 */
import type { Finding } from '../../../protocol/index.js';
import { deviceKey, markInForce, type MarkStatus } from '../../../shared/marks.js';
import { uuidv7 } from '../uuidv7.js';
import type { Queryable } from './db.js';
import { byKey, insertRows } from './bulk.js';

/** A catalog entry in a finding's `kev` shape. */
export type KevEntry = NonNullable<Finding['kev']>;

type MarkRow = { org_id: string; mac: string; cve_id: string; status: MarkStatus; cpe: string | null; expires_at: string | null; created_at: string };

/** Each (org, mac, cve)'s marks, newest first; a later-inserted mark of the same instant first (its seq). */
async function marksOf(client: Queryable, keys: { org_id: string; mac: string; cve_id: string }[]): Promise<Map<string, MarkRow[]>> {
  const marks = new Map<string, MarkRow[]>();
  if (keys.length === 0) return marks;
  const rows = await client.query<MarkRow>(
    `SELECT m.org_id, m.mac, m.cve_id, m.status, m.cpe, m.expiration_date AS expires_at, m.created_at
     FROM cve_marks m JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (org_id, mac, cve_id)
       ON m.org_id = k.org_id AND m.mac = k.mac AND m.cve_id = k.cve_id
     ORDER BY m.created_at DESC, m.seq DESC`,
    [keys.map((k) => k.org_id), keys.map((k) => k.mac), keys.map((k) => k.cve_id)],
  );
  for (const row of rows.rows) {
    const key = `${row.org_id} ${row.mac} ${row.cve_id}`;
    marks.set(key, [...(marks.get(key) ?? []), row]);
  }
  return marks;
}

/** Whether a finding is open: not patched by its distribution, not under an accepted or mitigated mark in force. */
function isOpen(
  marks: ReadonlyMap<string, MarkRow[]>,
  f: { org_id: string; mac: string | null; cve_id: string; cpe: string; distro_status: string | null | undefined },
  at: string,
): boolean {
  if (f.distro_status === 'fixed' || f.distro_status === 'not-affected') return false;
  return f.mac === null || markInForce(marks.get(`${f.org_id} ${f.mac} ${f.cve_id}`) ?? [], { cpe: f.cpe }, new Date(at)) === undefined;
}

/** The device a finding's state is kept for. Addresses repeat across sites; a MAC is the device wherever it is. */
function deviceOf(siteId: string, host: { mac: string | null; ip: string }): string {
  return host.mac === null ? `${siteId} ${deviceKey(host)}` : host.mac;
}

export interface WatchedFinding {
  org_id: string;
  site_id: string;
  scan_id: string;
  /** The finding's row id. */
  id: string;
  report: Finding;
  at: string;
}

interface State {
  org_id: string;
  device: string;
  cve_id: string;
  kev: boolean;
  exposed: boolean;
  updated_at: string;
}

/** Records the findings' states in order; answers the number of alerts raised. */
export async function watchFindings(client: Queryable, findings: readonly WatchedFinding[]): Promise<number> {
  // An agent before these fields says nothing about them: nothing changes.
  const told = findings.filter((f) => f.report.kev !== undefined || f.report.exposure !== undefined);
  if (told.length === 0) return 0;
  const marks = await marksOf(
    client,
    told.flatMap((f) => (f.report.mac === null ? [] : [{ org_id: f.org_id, mac: f.report.mac, cve_id: f.report.cve.id }])),
  );
  const open = told.filter((f) =>
    isOpen(marks, { org_id: f.org_id, mac: f.report.mac, cve_id: f.report.cve.id, cpe: f.report.cpe, distro_status: f.report.distro?.status }, f.at),
  );
  if (open.length === 0) return 0;
  const keyed = open.map((f) => ({ f, org_id: f.org_id, device: deviceOf(f.site_id, f.report), cve_id: f.report.cve.id }));
  const states = new Map<string, State>();
  const keyOf = (s: { org_id: string; device: string; cve_id: string }) => `${s.org_id}\n${s.device}\n${s.cve_id}`;
  const before = await client.query<State>(
    `SELECT w.org_id, w.device, w.cve_id, w.kev, w.exposed, w.updated_at FROM finding_watch w
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (org_id, device, cve_id) ON w.org_id = k.org_id AND w.device = k.device AND w.cve_id = k.cve_id`,
    [keyed.map((k) => k.org_id), keyed.map((k) => k.device), keyed.map((k) => k.cve_id)],
  );
  for (const row of before.rows) states.set(keyOf(row), row);
  const changed = new Map<string, State>();
  const alerts: { id: string; org_id: string; scan_id: string; finding_id: string; kind: 'kev' | 'exposed'; created_at: string }[] = [];
  for (const { f, org_id, device, cve_id } of keyed) {
    const key = keyOf({ org_id, device, cve_id });
    const last = states.get(key);
    const m = f.report;
    const kev = m.kev === undefined ? (last?.kev ?? false) : m.kev !== null;
    // An unknown exposure (no router read) keeps the last known state: it is not a change.
    const exposed = m.exposure === undefined || m.exposure.state === 'unknown' ? (last?.exposed ?? false) : m.exposure.state === 'yes';
    const next = { org_id, device, cve_id, kev, exposed, updated_at: f.at };
    states.set(key, next);
    changed.set(key, next);
    if (last === undefined) continue;
    const raised: ('kev' | 'exposed')[] = [];
    if (kev && !last.kev) raised.push('kev');
    if (exposed && !last.exposed) raised.push('exposed');
    for (const kind of raised) alerts.push({ id: uuidv7(), org_id, scan_id: f.scan_id, finding_id: f.id, kind, created_at: f.at });
  }
  const rows = [...changed.values()].sort((a, b) => byKey(keyOf(a), keyOf(b)));
  await insertRows(
    client,
    'finding_watch',
    ['org_id', 'device', 'cve_id', 'kev', 'exposed', 'updated_at'],
    rows,
    'ON CONFLICT (org_id, device, cve_id) DO UPDATE SET kev = excluded.kev, exposed = excluded.exposed, updated_at = excluded.updated_at',
  );
  await insertRows(client, 'finding_alerts', ['id', 'org_id', 'scan_id', 'finding_id', 'kind', 'created_at'], alerts);
  return alerts.length;
}

type Latest = { org_id: string; device: string; cve_id: string; id: string; scan_id: string; mac: string | null; cpe: string; distro_status: string | null };

/**
 * A KEV catalog update (the feed hub), inside the caller's transaction `client`: for each device
 * state not in KEV yet of a catalog CVE, the device's latest finding of the CVE, when open, raises
 * one `kev` alert (carrying the catalog entry) and moves the state, so the alert fires once and
 * the next scan reporting it in KEV does not fire again. The states are locked first: a second
 * node applying the same update waits, then finds them in KEV and raises nothing. Answers the
 * number of alerts raised.
 */
export async function kevCatalogWatch(client: Queryable, catalog: ReadonlyMap<string, KevEntry>, at: string): Promise<number> {
  if (catalog.size === 0) return 0;
  const states = (
    await client.query<{ org_id: string; device: string; cve_id: string }>(
      'SELECT org_id, device, cve_id FROM finding_watch WHERE kev = false AND cve_id = ANY($1::text[]) ORDER BY org_id, device, cve_id FOR UPDATE',
      [[...catalog.keys()]],
    )
  ).rows;
  if (states.length === 0) return 0;
  // The device's latest finding of the CVE, found through its hosts (hosts_by_mac); a device
  // without a MAC is a site's address `<site> <ip>` (a scan of the hosts: such devices are the few).
  const byMac = states.filter((s) => !s.device.includes(' '));
  const byAddress = states.filter((s) => s.device.includes(' '));
  const cols = 'k.org_id, k.device, k.cve_id, l.id, l.scan_id, l.mac, l.cpe, l.distro_status';
  const order = 'ORDER BY f.created_at DESC, f.id DESC LIMIT 1';
  const latest: Latest[] = [];
  if (byMac.length > 0)
    latest.push(
      ...(
        await client.query<Latest>(
          `SELECT ${cols} FROM unnest($1::text[], $2::text[], $3::text[]) AS k (org_id, device, cve_id) CROSS JOIN LATERAL (
             SELECT f.id, f.scan_id, f.mac, f.cpe, f.distro_status FROM hosts h JOIN findings f ON f.host_id = h.id
             WHERE h.mac = k.device AND f.org_id = k.org_id AND f.cve_id = k.cve_id ${order}) l`,
          [byMac.map((s) => s.org_id), byMac.map((s) => s.device), byMac.map((s) => s.cve_id)],
        )
      ).rows,
    );
  if (byAddress.length > 0) {
    const split = byAddress.map((s) => ({ ...s, site: s.device.slice(0, s.device.lastIndexOf(' ')), ip: s.device.slice(s.device.lastIndexOf(' ') + 1) }));
    latest.push(
      ...(
        await client.query<Latest>(
          `SELECT ${cols} FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS k (org_id, device, cve_id, site, ip) CROSS JOIN LATERAL (
             SELECT f.id, f.scan_id, f.mac, f.cpe, f.distro_status FROM hosts h JOIN findings f ON f.host_id = h.id
             WHERE h.site_id = k.site AND h.ip = k.ip AND h.mac IS NULL AND f.org_id = k.org_id AND f.cve_id = k.cve_id ${order}) l`,
          [split.map((s) => s.org_id), split.map((s) => s.device), split.map((s) => s.cve_id), split.map((s) => s.site), split.map((s) => s.ip)],
        )
      ).rows,
    );
  }
  const marks = await marksOf(
    client,
    latest.flatMap((l) => (l.mac === null ? [] : [{ org_id: l.org_id, mac: l.mac, cve_id: l.cve_id }])),
  );
  const raised = latest
    .filter((l) => isOpen(marks, l, at))
    .sort((a, b) => byKey(`${a.org_id}\n${a.device}\n${a.cve_id}`, `${b.org_id}\n${b.device}\n${b.cve_id}`));
  if (raised.length === 0) return 0;
  await client.query(
    `UPDATE finding_watch w SET kev = true, updated_at = $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS k (org_id, device, cve_id)
     WHERE w.org_id = k.org_id AND w.device = k.device AND w.cve_id = k.cve_id`,
    [raised.map((l) => l.org_id), raised.map((l) => l.device), raised.map((l) => l.cve_id), at],
  );
  await insertRows(
    client,
    'finding_alerts',
    ['id', 'org_id', 'scan_id', 'finding_id', 'kind', 'created_at', 'kev'],
    raised.map((l) => ({
      id: uuidv7(),
      org_id: l.org_id,
      scan_id: l.scan_id,
      finding_id: l.id,
      kind: 'kev',
      created_at: at,
      kev: JSON.stringify(catalog.get(l.cve_id)),
    })),
  );
  return raised.length;
}

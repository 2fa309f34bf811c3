/** One scan: live status, progress, event stream and new findings; stop; delta since the previous scan. */
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { can, del, toFailure, useGet, useSession } from '../api.js';
import { formatTime, score } from '../format.js';
import { useLive, type LiveFinding } from '../live.js';
import { ErrorBox, Guard, KeyValues, SeverityBadge, StatusBadge } from '../ui.js';
import type { Delta, ScanDetail, ScanStatus } from '../types.js';

const TERMINAL = new Set(['completed', 'partial', 'failed']);

function DeltaView({ scanId }: { scanId: string }) {
  const delta = useGet<Delta>(`/scans/cve/${scanId}/delta`);
  const row = (f: Delta['new'][number], i: number) => (
    <li key={`${f.cve_id}-${f.mac_address ?? f.host?.mac_address}-${i}`}>
      <Link class="nowrap" href={`/cves/${f.cve_id}`}>
        {f.cve_id}
      </Link>{' '}
      {f.severity && <SeverityBadge severity={f.severity} score={f.score} />} on{' '}
      {f.mac_address ?? f.host?.mac_address ?? f.ip_address ?? f.host?.ip_address ?? 'a host'}
    </li>
  );
  return (
    <section>
      <h2>Since the previous scan</h2>
      <Guard loading={delta.loading} error={delta.error}>
        {() => {
          const d = delta.data as Delta;
          if (!d.previous_scan_id) return <p class="muted">No earlier finished scan of this schedule to compare with.</p>;
          return (
            <>
              <p>
                Compared with <Link href={`/scans/${d.previous_scan_id}`}>{d.previous_scan_id.slice(0, 8)}</Link>: {d.new.length} new, {d.resolved.length}{' '}
                resolved, {d.unchanged} unchanged.
              </p>
              {d.new.length > 0 && (
                <>
                  <h3>New</h3>
                  <ul class="plain">{d.new.map(row)}</ul>
                </>
              )}
              {d.resolved.length > 0 && (
                <>
                  <h3>Resolved</h3>
                  <ul class="plain">{d.resolved.map(row)}</ul>
                </>
              )}
            </>
          );
        }}
      </Guard>
    </section>
  );
}

export function ScanDetailPage({ id }: { id: string }) {
  const who = useSession();
  const scan = useGet<ScanDetail>(`/scans/cve/${encodeURIComponent(id)}`);
  const [findings, setFindings] = useState<LiveFinding[]>([]);
  const [error, setError] = useState<string>();
  const [stopping, setStopping] = useState(false);
  useLive(
    'scan',
    (m) => {
      if (m.scan_id !== id) return;
      // A finish brings the final counts: refetch; progress alone is applied in place.
      if (TERMINAL.has(m.status)) scan.reload();
      else scan.set((s) => s && { ...s, status: m.status as ScanStatus, progress: m.progress, running: true });
    },
    [id],
  );
  useLive(
    'event',
    (m) => {
      if (m.scan_id !== id) return;
      scan.set(
        (s) =>
          s && (s.events.some((e) => e.time === m.time && e.message === m.message) ? s : { ...s, events: [...s.events, { time: m.time, message: m.message }] }),
      );
    },
    [id],
  );
  useLive('finding', (m) => m.scan_id === id && setFindings((list) => [...list, m].slice(-200)), [id]);
  useLive('resync', () => scan.reload(), [id]);

  const stop = async (scheduleId: string) => {
    setStopping(true);
    setError(undefined);
    try {
      await del(`/scans/cve/scheduled/${scheduleId}/invoke`);
    } catch (caught) {
      setError(toFailure(caught).message);
    } finally {
      setStopping(false);
    }
  };

  return (
    <>
      <h1>Scan {scan.data?.scan_id ?? ''}</h1>
      <Guard loading={scan.loading && !scan.data} error={scan.error}>
        {() => {
          const s = scan.data as ScanDetail;
          const terminal = TERMINAL.has(s.status);
          return (
            <>
              <div class="actions">
                <span data-testid="scan-status">
                  <StatusBadge status={s.status} />
                </span>
                <progress data-testid="scan-progress" max={100} value={s.progress} aria-label="Scan progress" />
                <span>{s.progress} %</span>
                {!terminal && s.scan_schedule_id && can('cve:update', who) && (
                  <button type="button" class="danger" disabled={stopping} onClick={() => void stop(s.scan_schedule_id as string)}>
                    Stop scan
                  </button>
                )}
                {terminal && <Link href={`/reports/${s.id}`}>Report</Link>}
              </div>
              <ErrorBox error={error} />
              {s.error && <ErrorBox error={`The scan reported: ${s.error}`} />}
              <KeyValues
                rows={[
                  ['Schedule', s.scan_schedule_id ? <Link href={`/schedules/${s.scan_schedule_id}`}>{s.scan_schedule_id.slice(0, 8)}</Link> : '—'],
                  ['Started', formatTime(s.started_at)],
                  ['Finished', formatTime(s.finished_at)],
                  ['Runtime', s.runtime ?? '—'],
                  ['Sites', `${s.targets} (${s.percentage_done} % done, ${s.percentage_failed} % failed)`],
                  ['Hosts scanned', String(s.hosts_scanned)],
                  ['Hosts with CVEs', String(s.hosts_with_cves)],
                  ['CVEs', `${s.cve_count} (${s.unique_cves} distinct)`],
                  ['Highest / average score', `${score(s.highest_score)} / ${score(s.average_score)}`],
                ]}
              />
              {findings.length > 0 && (
                <section>
                  <h2>New findings while you watch</h2>
                  <ul class="plain">
                    {findings.map((f, i) => (
                      <li key={`${f.cursor}-${i}`}>
                        <SeverityBadge severity={f.severity} score={f.score} />{' '}
                        <Link class="nowrap" href={`/cves/${f.cve_id}`}>
                          {f.cve_id}
                        </Link>{' '}
                        on {f.mac_address ? <Link href={`/devices/${encodeURIComponent(f.mac_address)}`}>{f.mac_address}</Link> : f.ip_address}
                      </li>
                    ))}
                  </ul>
                </section>
              )}
              <section>
                <h2>Events</h2>
                {s.events.length === 0 && <p class="muted">No events yet; they appear here as the agents report them.</p>}
                <ol class="events" tabIndex={0} data-testid="scan-events" aria-live="polite" aria-label="Scan events">
                  {s.events.map((e, i) => (
                    <li key={`${e.time}-${i}`}>
                      <span class="muted small">{formatTime(e.time)}</span> {e.message}
                    </li>
                  ))}
                </ol>
              </section>
              {terminal && s.scan_schedule_id && <DeltaView scanId={s.id} />}
            </>
          );
        }}
      </Guard>
    </>
  );
}

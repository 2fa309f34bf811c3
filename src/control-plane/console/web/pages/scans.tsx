/** Scans: history, newest first, with live status and progress; filter by schedule. */
import { Link } from 'wouter-preact';
import { useGet } from '../api.js';
import { formatTime, score } from '../format.js';
import { useLive } from '../live.js';
import { useHashQuery } from '../router.js';
import { Empty, Guard, StatusBadge } from '../ui.js';
import type { ScanStatus, ScanSummary } from '../types.js';

export function ScansPage() {
  const schedule = useHashQuery().get('schedule');
  const scans = useGet<ScanSummary[]>(`/scans/cve?limit=100${schedule ? `&scan_schedule_id=${encodeURIComponent(schedule)}` : ''}`);
  useLive(
    'scan',
    (m) => {
      if (schedule && m.scan_schedule_id !== schedule) return;
      if (!scans.data?.some((s) => s.id === m.scan_id)) return scans.reloadSoon();
      scans.set((list) =>
        list?.map((s) =>
          s.id === m.scan_id ? { ...s, status: m.status as ScanStatus, progress: m.progress, running: ['queued', 'scanning'].includes(m.status) } : s,
        ),
      );
    },
    [schedule, scans.data],
  );
  useLive('resync', () => scans.reload());
  return (
    <>
      <h1>Scans</h1>
      {schedule && (
        <p>
          Scans of schedule <Link href={`/schedules/${schedule}`}>{schedule.slice(0, 8)}</Link> · <Link href="/scans">all scans</Link>
        </p>
      )}
      <Guard loading={scans.loading && !scans.data} error={scans.error}>
        {() =>
          scans.data?.length === 0 ? (
            <Empty>
              <p>
                No scans yet. Open <Link href="/schedules">Schedules</Link> and invoke one, or wait for its next run.
              </p>
            </Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Scan</th>
                    <th scope="col">Origin</th>
                    <th scope="col">Status</th>
                    <th scope="col">Progress</th>
                    <th scope="col">Started</th>
                    <th scope="col">Runtime</th>
                    <th scope="col" class="num">
                      Hosts
                    </th>
                    <th scope="col" class="num">
                      CVEs
                    </th>
                    <th scope="col" class="num">
                      Highest
                    </th>
                    <th scope="col">Report</th>
                  </tr>
                </thead>
                <tbody>
                  {scans.data?.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link class="nowrap" href={`/scans/${s.id}`}>
                          {s.scan_id}
                        </Link>
                      </td>
                      <td title={s.trigger ?? undefined}>{s.origin}</td>
                      <td>
                        <StatusBadge status={s.status} />
                      </td>
                      <td>
                        <progress max={100} value={s.progress} aria-label={`Progress of scan ${s.scan_id}`} /> {s.progress} %
                      </td>
                      <td>{formatTime(s.started_at)}</td>
                      <td>{s.runtime ?? '—'}</td>
                      <td class="num">{s.hosts_scanned}</td>
                      <td class="num">{s.cve_count}</td>
                      <td class="num">{score(s.highest_score)}</td>
                      <td>{s.running ? <span class="muted">when finished</span> : <Link href={`/reports/${s.id}`}>Report</Link>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Guard>
    </>
  );
}

/** Schedules: when each runs (its zone and the operator's), its sites, and invoke / stop / edit / delete. */
import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { can, del, post, toFailure, useGet, useSession } from '../api.js';
import { DAYS, formatTime, operatorZone } from '../format.js';
import { useLive } from '../live.js';
import { useSiteNames } from '../sites-index.js';
import { DataTable, Empty, ErrorBox, Guard, StatusBadge } from '../ui.js';
import type { Schedule } from '../types.js';

export function ScheduleActions({ schedule, onChange, edit = true }: { schedule: Schedule; onChange: () => void; edit?: boolean }) {
  const who = useSession();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<unknown>, refresh = true): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      if (refresh) onChange();
      return true;
    } catch (caught) {
      setError(toFailure(caught).message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const invoke = () =>
    act(async () => {
      const started = await post<{ scan_id: string }>(`/scans/cve/scheduled/${schedule.id}/invoke`);
      navigate(`/scans/${started.scan_id}`);
    });
  const stop = () => act(() => del(`/scans/cve/scheduled/${schedule.id}/invoke`));
  const remove = () => {
    if (!window.confirm(`Delete the schedule "${schedule.description || schedule.id}"? Its past scans stay.`)) return;
    // From the schedule's own page, back to the list: the page it was on is gone.
    void act(() => del(`/scans/cve/scheduled/${schedule.id}`), edit).then((deleted) => deleted && !edit && navigate('/schedules'));
  };
  return (
    <span class="actions">
      {can('cve:create', who) && !schedule.running && (
        <button type="button" class="primary" disabled={busy} onClick={() => void invoke()}>
          Invoke
        </button>
      )}
      {can('cve:update', who) && schedule.running && (
        <button type="button" disabled={busy} onClick={() => void stop()}>
          Stop
        </button>
      )}
      {edit && can('cve:update', who) && <Link href={`/schedules/${schedule.id}`}>Edit</Link>}
      {can('cve:delete', who) && (
        <button type="button" class="danger" disabled={busy} onClick={remove}>
          Delete
        </button>
      )}
      {error && <ErrorBox error={error} />}
    </span>
  );
}

export function SchedulesPage() {
  const who = useSession();
  const schedules = useGet<Schedule[]>('/scans/cve/scheduled?limit=500');
  const siteName = useSiteNames();
  // A scan of a schedule starting or ending changes its running state.
  useLive('scan', (m) => {
    const known = schedules.data?.find((s) => s.id === m.scan_schedule_id);
    const running = ['queued', 'scanning'].includes(m.status);
    if (known && known.running !== running) schedules.reloadSoon();
  });
  useLive('resync', () => schedules.reload());
  const zone = operatorZone();
  return (
    <>
      <h1>Schedules</h1>
      {can('cve:create', who) && (
        <p class="actions">
          <Link href="/schedules/new" class="button-link">
            New schedule
          </Link>
        </p>
      )}
      <Guard loading={schedules.loading && !schedules.data} error={schedules.error}>
        {() =>
          schedules.data?.length === 0 ? (
            <Empty>
              <p>
                No schedules yet. {can('cve:create', who) ? <Link href="/schedules/new">Create one</Link> : 'An operator creates one'} to scan a site's subnets
                every few weeks, or invoke it at once.
              </p>
            </Empty>
          ) : (
            <DataTable columns={['Schedule', 'When', 'Next run', 'Sites', 'Status', 'Actions']}>
              {schedules.data?.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/schedules/${s.id}`}>{s.description || s.id.slice(0, 8)}</Link>
                    <div class="muted small">
                      CVSS ≥ {s.min_cvss}, warn ≥ {s.warning_threshold}
                    </div>
                  </td>
                  <td>
                    {DAYS[s.day_of_week]} {s.time_of_day}, every {s.every_n_weeks} weeks
                  </td>
                  <td>
                    {formatTime(s.next_scan_at, s.timezone)}
                    {zone !== s.timezone && <div class="muted small">{formatTime(s.next_scan_at, zone)}</div>}
                  </td>
                  <td>
                    {s.sites.map((site) => (
                      <div key={`${site.id}-${site.subnet}`}>
                        <Link href={`/sites/${site.id}`}>{siteName(site.id)}</Link> <span class="muted">{site.subnet}</span>
                      </div>
                    ))}
                  </td>
                  <td>
                    <StatusBadge status={s.status ?? (s.running ? 'running' : 'ready')} />
                    <div>
                      <Link href={`/scans?schedule=${s.id}`} class="small">
                        Scans
                      </Link>
                    </div>
                  </td>
                  <td>
                    <ScheduleActions schedule={s} onChange={schedules.reload} />
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Guard>
    </>
  );
}

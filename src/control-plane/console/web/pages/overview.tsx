/** Overview: sites online/offline, feed age per site, open findings by severity, what to fix first, recent scans. */
import { Link } from 'wouter-preact';
import { useGet } from '../api.js';
import { formatTime, score } from '../format.js';
import { useLive } from '../live.js';
import { DataTable, FactList, Guard, SeverityBadge, StatusBadge } from '../ui.js';
import { SEVERITIES, type Overview } from '../types.js';
import { NoSites } from './sites.js';

export function OverviewPage() {
  const overview = useGet<Overview>('/overview');
  // Counts move with sites going on/offline and scans finishing: refetch the summary on those.
  useLive('site', () => overview.reloadSoon());
  useLive('scan', (m) => {
    if (!['queued', 'scanning'].includes(m.status)) overview.reloadSoon();
    else
      overview.set(
        (o) => o && { ...o, recent_scans: o.recent_scans.map((s) => (s.id === m.scan_id ? { ...s, status: m.status as never, progress: m.progress } : s)) },
      );
  });
  useLive('resync', () => overview.reload());
  return (
    <>
      <h1>Overview</h1>
      <Guard loading={overview.loading && !overview.data} error={overview.error}>
        {() => {
          const o = overview.data as Overview;
          if (o.sites.total === 0) return <NoSites />;
          return (
            <>
              <section class="tiles" aria-label="Summary">
                <div class="tile">
                  <span class="tile-n">{o.sites.online}</span> of {o.sites.total} sites online
                </div>
                <div class={o.sites.offline > 0 ? 'tile warn' : 'tile'}>
                  <span class="tile-n">{o.sites.offline}</span> offline
                </div>
                {SEVERITIES.map((sev) => (
                  <div class="tile" key={sev}>
                    <span class="tile-n">{o.findings_by_severity[sev] ?? 0}</span> <SeverityBadge severity={sev} />
                  </div>
                ))}
              </section>
              <section>
                <h2>Fix first</h2>
                {o.fix_first.length === 0 ? (
                  <p class="muted">No open findings. Run a scan from Schedules to look for some.</p>
                ) : (
                  <DataTable columns={['#', 'CVE', 'Severity', 'Device', 'Why']}>
                    {o.fix_first.map((f, i) => (
                      <tr key={`${f.cve_id}-${f.mac_address}-${i}`}>
                        <td>{f.priority_rank ?? i + 1}</td>
                        <td>
                          <Link class="nowrap" href={`/cves/${f.cve_id}`}>
                            {f.cve_id}
                          </Link>
                        </td>
                        <td>
                          <SeverityBadge severity={f.severity} score={f.score} />
                        </td>
                        <td>
                          {f.mac_address ? (
                            <Link href={`/devices/${encodeURIComponent(f.mac_address)}`}>{f.hostname ?? f.mac_address}</Link>
                          ) : (
                            (f.hostname ?? '—')
                          )}
                          <div class="muted small">{f.ip_address}</div>
                        </td>
                        <td>
                          <FactList facts={f as never} extra={Object.keys(f)} />
                        </td>
                      </tr>
                    ))}
                  </DataTable>
                )}
              </section>
              <section>
                <h2>CVE feed age per site</h2>
                <DataTable columns={['Site', 'Feed age']}>
                  {o.feeds.map((f) => (
                    <tr key={f.site_id}>
                      <td>
                        <Link href={`/sites/${f.site_id}`}>{f.name}</Link>
                      </td>
                      <td class={f.age_days !== null && f.age_days > 7 ? 'stale' : ''}>
                        {f.age_days === null ? 'not reported' : `${f.age_days} day${f.age_days === 1 ? '' : 's'}`}
                        {f.age_days !== null && f.age_days > 7 ? ' (stale)' : ''}
                      </td>
                    </tr>
                  ))}
                </DataTable>
              </section>
              <section>
                <h2>Recent scans</h2>
                {o.recent_scans.length === 0 ? (
                  <p class="muted">
                    No scans yet. <Link href="/schedules">Invoke a schedule</Link> to run one.
                  </p>
                ) : (
                  <ul class="plain">
                    {o.recent_scans.map((s) => (
                      <li key={s.id}>
                        <Link class="nowrap" href={`/scans/${s.id}`}>
                          {s.scan_id}
                        </Link>{' '}
                        <StatusBadge status={s.status} /> {s.progress} % · {s.cve_count} CVEs · highest {score(s.highest_score)} · {formatTime(s.started_at)}
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </>
          );
        }}
      </Guard>
    </>
  );
}

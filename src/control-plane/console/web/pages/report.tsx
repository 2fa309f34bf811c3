/** A scan report as a page (report.json), with downloads of JSON, CSV and PDF. */
import { Link } from 'wouter-preact';
import { useGet } from '../api.js';
import { formatTime, score } from '../format.js';
import { useLive } from '../live.js';
import { useSiteNames } from '../sites-index.js';
import { DataTable, FactList, Guard, KeyValues, SeverityBadge, StatusBadge, summarize } from '../ui.js';
import type { CveInstance, ScanReport } from '../types.js';

function CveTable({ cves, testId }: { cves: CveInstance[]; testId?: string }) {
  return (
    <div class="table-wrap" tabIndex={0}>
      <table data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">CVE</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Device</th>
            <th scope="col">Service</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {cves.map((c, i) => (
            <tr key={c.id}>
              <td>{c.priority_rank ?? i + 1}</td>
              <td>
                <Link class="nowrap" href={`/cves/${c.cve_id}`}>
                  {c.cve_id}
                </Link>
              </td>
              <td>
                <SeverityBadge severity={c.severity} score={c.score} />
              </td>
              <td>
                <StatusBadge status={c.status} />
              </td>
              <td>
                {c.host.mac_address ? (
                  <Link href={`/devices/${encodeURIComponent(c.host.mac_address)}`}>
                    <code>{c.host.mac_address}</code>
                  </Link>
                ) : (
                  '—'
                )}
                <div class="muted small">
                  {c.host.hostname ?? ''} {c.host.ip_address}
                </div>
              </td>
              <td>
                {c.port ?? '—'} {c.service ?? ''}
                <div class="muted small">{c.cpe}</div>
              </td>
              <td>
                <FactList facts={c as never} extra={Object.keys(c)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ReportPage({ scanId }: { scanId: string }) {
  const report = useGet<ScanReport>(`/scans/cve/${encodeURIComponent(scanId)}/report.json`);
  const siteName = useSiteNames();
  // A report not ready yet (409) becomes ready when the scan finishes.
  useLive('scan', (m) => m.scan_id === scanId && ['completed', 'partial', 'failed'].includes(m.status) && report.error && report.reload(), [
    scanId,
    report.error,
  ]);
  const base = `/scans/cve/${encodeURIComponent(scanId)}`;
  const label = report.data?.scan.scan_id ?? scanId;
  return (
    <>
      <h1>Report {report.data?.scan.scan_id ?? scanId.slice(0, 8)}</h1>
      <p class="actions">
        <span>Download:</span>
        <a href={`${base}/report.json`} download={`scan-${label}.json`}>
          JSON
        </a>
        <a href={`${base}/report.csv`} download={`scan-${label}.csv`}>
          CSV
        </a>
        <a href={`${base}/report.pdf`} download={`scan-${label}.pdf`}>
          PDF
        </a>
        <Link href={`/scans/${scanId}`}>Scan page</Link>
      </p>
      <Guard loading={report.loading && !report.data} error={report.error}>
        {() => {
          const r = report.data as ScanReport;
          const s = r.scan;
          // A sweep answers for every address; the hosts worth a row have a MAC, a name or an open port.
          const notable = r.hosts.filter((h) => h.mac_address !== null || h.hostname !== null || h.open_ports.length > 0);
          return (
            <>
              <h2>Summary</h2>
              <KeyValues
                rows={[
                  ['Status', <StatusBadge status={s.status} />],
                  ['Started', formatTime(s.started_at)],
                  ['Finished', formatTime(s.finished_at)],
                  ['Runtime', s.runtime ?? '—'],
                  ['Hosts scanned', String(s.hosts_scanned)],
                  ['Hosts with CVEs', String(s.hosts_with_cves)],
                  ['CVEs', `${s.cve_count} (${s.unique_cves} distinct)`],
                  ['Highest / average', `${score(s.highest_score)} / ${score(s.average_score)}`],
                  ['Reported from CVSS', String(r.min_cvss)],
                  ['Warning at CVSS', String(r.warning_threshold)],
                ]}
              />
              <h2>Sites and scope</h2>
              <DataTable columns={['Site', 'Status', 'Subnets', 'Router', 'Coverage']}>
                {r.sites.map((site) => (
                  <tr key={site.site_id}>
                    <td>
                      <Link href={`/sites/${site.site_id}`}>{siteName(site.site_id)}</Link>
                    </td>
                    <td>
                      <StatusBadge status={site.status} />
                      {site.error && <div class="error small">{site.error}</div>}
                    </td>
                    <td>{site.target_ips ? site.target_ips.join(', ') : site.subnets.join(', ')}</td>
                    <td>
                      {site.router
                        ? `${site.router.identity}, RouterOS ${site.router.routeros_version}${site.router.board ? `, ${site.router.board}` : ''}`
                        : '—'}
                    </td>
                    <td class="small">
                      {site.coverage ? (
                        <ul class="facts">
                          {summarize(site.coverage).map((line) => (
                            <li key={line}>{line.replaceAll('_', ' ')}</li>
                          ))}
                        </ul>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </DataTable>
              <h2>Warnings ({r.warnings.length})</h2>
              {r.warnings.length === 0 ? <p class="muted">No open CVE at or above the warning threshold.</p> : <CveTable cves={r.warnings} />}
              <h2>CVEs, fix first ({r.cves.length})</h2>
              {r.cves.length === 0 ? <p class="muted">No CVEs found.</p> : <CveTable cves={r.cves} testId="report-cves" />}
              <h2>Hosts by MAC ({notable.length})</h2>
              {notable.length < r.hosts.length && (
                <p class="muted">{r.hosts.length - notable.length} more addresses answered the sweep with no MAC, no name and no open port.</p>
              )}
              <div class="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">MAC</th>
                      <th scope="col">IP</th>
                      <th scope="col">Host</th>
                      <th scope="col">Open ports</th>
                      <th scope="col" class="num">
                        CVEs
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...notable]
                      .sort((a, b) => (a.mac_address ?? '~').localeCompare(b.mac_address ?? '~'))
                      .map((h) => (
                        <tr key={h.id}>
                          <td>
                            {h.mac_address ? (
                              <Link href={`/devices/${encodeURIComponent(h.mac_address)}`}>
                                <code>{h.mac_address}</code>
                              </Link>
                            ) : (
                              '—'
                            )}
                          </td>
                          <td>{h.ip_address}</td>
                          <td>
                            {h.hostname ?? '—'}
                            <div class="muted small">{[h.manufacturer, h.os].filter(Boolean).join(', ')}</div>
                          </td>
                          <td class="small">
                            {h.open_ports
                              .map((p) => `${p.port}/${p.protocol}${p.product ? ` ${p.product}${p.version ? ` ${p.version}` : ''}` : ''}`)
                              .join(', ') || '—'}
                          </td>
                          <td class="num">{h.cve_count}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </div>
              {r.patched && r.patched.length > 0 && (
                <>
                  <h2>Patched by the distribution ({r.patched.length})</h2>
                  <p class="muted">Listed, not counted: the distribution's tracker says the package behind the banner is fixed or not affected.</p>
                  <CveTable cves={r.patched} />
                </>
              )}
            </>
          );
        }}
      </Guard>
    </>
  );
}

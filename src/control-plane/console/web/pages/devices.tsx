/** Devices by MAC: the list (search, site filter) and one device's IPs over time, services, CVEs and marks. */
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { can, useGet, useSession } from '../api.js';
import { formatTime, score } from '../format.js';
import { useLive } from '../live.js';
import { navigateTo, useHashQuery } from '../router.js';
import { useSiteNames, useSites } from '../sites-index.js';
import { DataTable, Empty, FactList, Guard, KeyValues, SeverityBadge, StatusBadge } from '../ui.js';
import type { DeviceDetail, DeviceRow } from '../types.js';
import { MarkHistory } from './marks.js';

const deviceHref = (mac: string) => `/devices/${encodeURIComponent(mac)}`;

export function DevicesPage() {
  const query = useHashQuery();
  const siteId = query.get('site_id') ?? '';
  const q = query.get('q') ?? '';
  const [text, setText] = useState(q);
  const sites = useSites();
  const siteName = useSiteNames();
  const params = new URLSearchParams();
  if (siteId) params.set('site_id', siteId);
  if (q) params.set('q', q);
  const devices = useGet<DeviceRow[]>(`/devices${params.size > 0 ? `?${params}` : ''}`);
  useLive('finding', () => devices.reloadSoon());
  useLive('resync', () => devices.reload());
  const filter = (next: { site_id?: string; q?: string }) => {
    const merged = new URLSearchParams({ site_id: siteId, q, ...next });
    for (const [key, value] of [...merged]) if (!value) merged.delete(key);
    navigateTo(`/devices${merged.size > 0 ? `?${merged}` : ''}`, { replace: true });
  };
  return (
    <>
      <h1>Devices</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          filter({ q: text });
        }}
      >
        <div class="field">
          <label for="device-q">MAC, IP, hostname or vendor</label>
          <input id="device-q" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="device-site">Site</label>
          <select id="device-site" value={siteId} onChange={(e) => filter({ site_id: e.currentTarget.value })}>
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <button type="submit">Search</button>
        </div>
      </form>
      <Guard loading={devices.loading && !devices.data} error={devices.error}>
        {() =>
          devices.data?.length === 0 ? (
            <Empty>
              <p>{q || siteId ? 'No device matches this search.' : 'No devices seen yet. Devices appear after a scan; invoke one from Schedules.'}</p>
            </Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">MAC</th>
                    <th scope="col">Vendor</th>
                    <th scope="col">Hostname</th>
                    <th scope="col">Last IP</th>
                    <th scope="col">Site</th>
                    <th scope="col">Last seen</th>
                    <th scope="col" class="num">
                      Open CVEs
                    </th>
                    <th scope="col" class="num">
                      Highest
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {devices.data?.map((d) => (
                    <tr key={`${d.mac_address}-${d.site_id}`}>
                      <td>
                        <Link href={deviceHref(d.mac_address)}>
                          <code>{d.mac_address}</code>
                        </Link>
                      </td>
                      <td>{d.manufacturer ?? '—'}</td>
                      <td>{d.hostname ?? '—'}</td>
                      <td>{d.last_ip ?? '—'}</td>
                      <td>
                        <Link href={`/sites/${d.site_id}`}>{siteName(d.site_id)}</Link>
                      </td>
                      <td>{formatTime(d.last_seen_at)}</td>
                      <td class="num">{d.open_cves}</td>
                      <td class="num">{score(d.highest_score)}</td>
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

export function DeviceDetailPage({ mac }: { mac: string }) {
  const who = useSession();
  const device = useGet<DeviceDetail>(`/devices/${encodeURIComponent(mac)}`);
  const siteName = useSiteNames();
  useLive('finding', (m) => m.mac_address?.toUpperCase() === device.data?.mac_address.toUpperCase() && device.reloadSoon(), [device.data?.mac_address]);
  useLive('resync', () => device.reload());
  return (
    <>
      <h1>
        Device <code>{device.data?.mac_address ?? mac}</code>
      </h1>
      <Guard loading={device.loading && !device.data} error={device.error}>
        {() => {
          const d = device.data as DeviceDetail;
          return (
            <>
              <KeyValues
                rows={[
                  ['Vendor', d.manufacturer ?? 'unknown'],
                  ['Hostnames', d.hostnames.length > 0 ? d.hostnames.join(', ') : '—'],
                  [
                    'Sites',
                    d.site_ids.map((id, i) => (
                      <span key={id}>
                        {i > 0 && ', '}
                        <Link href={`/sites/${id}`}>{siteName(id)}</Link>
                      </span>
                    )),
                  ],
                ]}
              />
              <h2>CVEs</h2>
              {d.cves.length === 0 ? (
                <p class="muted" data-testid="device-cves">
                  No CVEs found on this device.
                </p>
              ) : (
                <div class="table-wrap" tabIndex={0}>
                  <table data-testid="device-cves">
                    <thead>
                      <tr>
                        <th scope="col">CVE</th>
                        <th scope="col">Severity</th>
                        <th scope="col">Status</th>
                        <th scope="col">Where</th>
                        <th scope="col">Why</th>
                        {can('cve:update', who) && <th scope="col">Mark</th>}
                      </tr>
                    </thead>
                    <tbody>
                      {d.cves.map((c) => (
                        <tr key={c.id}>
                          <td>
                            <Link class="nowrap" href={`/cves/${c.cve_id}`}>
                              {c.cve_id}
                            </Link>
                            <div class="muted small">
                              {c.description.slice(0, 140)}
                              {c.description.length > 140 ? '…' : ''}
                            </div>
                          </td>
                          <td>
                            <SeverityBadge severity={c.severity} score={c.score} />
                          </td>
                          <td>
                            <StatusBadge status={c.status} />
                          </td>
                          <td>
                            {c.host.ip_address}
                            {c.port !== null ? `:${c.port}` : ''} {c.service ?? ''}
                            <div class="muted small">{c.cpe}</div>
                          </td>
                          <td>
                            <FactList facts={c as never} extra={Object.keys(c)} />
                          </td>
                          {can('cve:update', who) && (
                            <td>
                              <Link href={`/marks?mac=${encodeURIComponent(d.mac_address)}&cve=${c.cve_id}`}>Accept or mitigate</Link>
                            </td>
                          )}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h2>IP addresses over time</h2>
              {d.ips.length === 0 ? (
                <p class="muted">None recorded.</p>
              ) : (
                <div class="table-wrap" tabIndex={0}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">IP</th>
                        <th scope="col">First seen</th>
                        <th scope="col">Last seen</th>
                        <th scope="col" class="num">
                          Scans
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.ips.map((ip) => (
                        <tr key={ip.ip_address}>
                          <td>{ip.ip_address}</td>
                          <td>{formatTime(ip.first_seen_at)}</td>
                          <td>{formatTime(ip.last_seen_at)}</td>
                          <td class="num">{ip.scans}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h2>Services</h2>
              {d.services.length === 0 ? (
                <p class="muted">No open ports seen.</p>
              ) : (
                <DataTable columns={['Port', 'Service', 'Product', 'Version', 'Last seen']}>
                  {d.services.map((s) => (
                    <tr key={`${s.port}-${s.product}`}>
                      <td>{s.port}</td>
                      <td>{s.service ?? '—'}</td>
                      <td>{s.product ?? '—'}</td>
                      <td>{s.version ?? '—'}</td>
                      <td>{formatTime(s.last_seen_at)}</td>
                    </tr>
                  ))}
                </DataTable>
              )}
              <h2>Marks</h2>
              <MarkHistory marks={d.marks} />
            </>
          );
        }}
      </Guard>
    </>
  );
}

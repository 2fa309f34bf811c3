/** Sites: each agent's connection and feed; a site's router, MikroTik neighbors, subnets and last scan. */
import { Link } from 'wouter-preact';
import { useGet } from '../api.js';
import { formatTime } from '../format.js';
import { useLive } from '../live.js';
import { DataTable, Empty, Guard, KeyValues, StatusBadge } from '../ui.js';
import type { Site } from '../types.js';

export function NoSites() {
  return (
    <Empty>
      <p>No sites yet. Register a site on the control plane host, then install its agent with the token it prints:</p>
      <pre>
        <code>cve-control-plane sites add --config /etc/cve-control-plane/config.yaml --org &lt;your org&gt; --name &lt;site name&gt;</code>
      </pre>
    </Empty>
  );
}

function Online({ online }: { online: boolean }) {
  return <span class={online ? 'status status-online' : 'status status-offline'}>{online ? 'online' : 'offline'}</span>;
}

function feedText(site: Site): string {
  if (!site.feed) return 'not reported';
  const age = site.feed.age_days === null ? 'age unknown' : `${site.feed.age_days} d old`;
  const behind = site.feed.hub_version !== null && site.feed.hub_version > site.feed.version ? ', behind the hub' : '';
  return `v${site.feed.version}, ${age}${behind}`;
}

export function SitesPage() {
  const sites = useGet<Site[]>('/sites?limit=500');
  useLive('site', (m) => sites.set((list) => list?.map((s) => (s.id === m.site_id ? { ...s, online: m.online, last_seen_at: m.at } : s))));
  useLive('resync', () => sites.reload());
  return (
    <>
      <h1>Sites</h1>
      <Guard loading={sites.loading && !sites.data} error={sites.error}>
        {() =>
          sites.data?.length === 0 ? (
            <NoSites />
          ) : (
            <DataTable columns={['Site', 'Agent', 'Version', 'Last seen', 'CVE feed']}>
              {sites.data?.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/sites/${s.id}`}>{s.name}</Link>
                  </td>
                  <td>
                    <Online online={s.online} />
                  </td>
                  <td>{s.agent_version ?? '—'}</td>
                  <td>{formatTime(s.last_seen_at)}</td>
                  <td>{feedText(s)}</td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Guard>
    </>
  );
}

export function SiteDetailPage({ id }: { id: string }) {
  const site = useGet<Site>(`/sites/${encodeURIComponent(id)}`);
  useLive('site', (m) => m.site_id === id && site.set((s) => s && { ...s, online: m.online, last_seen_at: m.at }), [id]);
  useLive('scan', (m) => site.data?.last_scan?.id === m.scan_id && site.reload(), [site.data?.last_scan?.id]);
  return (
    <>
      <h1>Site {site.data?.name ?? ''}</h1>
      <Guard loading={site.loading && !site.data} error={site.error}>
        {() => {
          const s = site.data as Site;
          const r = s.router;
          return (
            <>
              <KeyValues
                rows={[
                  ['Agent', <Online online={s.online} />],
                  ['Agent version', s.agent_version ?? '—'],
                  ['Last seen', formatTime(s.last_seen_at)],
                  ['CVE feed', feedText(s)],
                  ['Subnets', s.subnets === undefined ? '—' : s.subnets.length > 0 ? s.subnets.join(', ') : 'none: no schedule names this site'],
                  [
                    'Last scan',
                    s.last_scan ? (
                      <>
                        <Link href={`/scans/${s.last_scan.id}`}>{s.last_scan.id.slice(0, 8)}</Link> <StatusBadge status={s.last_scan.status} />{' '}
                        {formatTime(s.last_scan.finished_at)}
                      </>
                    ) : (
                      'none yet'
                    ),
                  ],
                  ['Site id', <code>{s.id}</code>],
                ]}
              />
              <h2>Router</h2>
              {r ? (
                <KeyValues
                  rows={[
                    ['Identity', r.identity],
                    ['Model', r.model ?? r.board ?? '—'],
                    ['RouterOS', r.routeros_version ?? '—'],
                    ['Channel', r.channel ?? '—'],
                    ['Serial', r.serial ?? '—'],
                  ]}
                />
              ) : (
                <p class="muted">The agent has not reported its router yet; it does after a scan with router access.</p>
              )}
              <h2>MikroTik neighbors</h2>
              {s.neighbors && s.neighbors.length > 0 ? (
                <DataTable columns={['Identity', 'Platform', 'Version', 'MAC', 'Address', 'Interface']}>
                  {s.neighbors.map((n, i) => (
                    <tr key={`${n.mac_address}-${i}`}>
                      <td>{n.identity ?? '—'}</td>
                      <td>{n.platform ?? '—'}</td>
                      <td>{n.version ?? '—'}</td>
                      <td>{n.mac_address ? <Link href={`/devices/${encodeURIComponent(n.mac_address)}`}>{n.mac_address}</Link> : '—'}</td>
                      <td>{n.address ?? '—'}</td>
                      <td>{n.interface ?? '—'}</td>
                    </tr>
                  ))}
                </DataTable>
              ) : (
                <p class="muted">No neighbors reported.</p>
              )}
              <p>
                <Link href={`/devices?site_id=${s.id}`}>Devices of this site</Link>
              </p>
            </>
          );
        }}
      </Guard>
    </>
  );
}

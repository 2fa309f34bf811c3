/** A CVE: scores and description (the feed hub's NVD record), KEV and EPSS, advice, and the organization's affected devices. */
import { Link } from 'wouter-preact';
import { useGet } from '../api.js';
import { formatTime, score } from '../format.js';
import { Markdown } from '../markdown.js';
import { useSiteNames } from '../sites-index.js';
import { DataTable, ErrorBox, Guard, KeyValues, Loading, SeverityBadge, StatusBadge } from '../ui.js';
import type { CveDevice } from '../types.js';

interface CvssMetric {
  source?: string;
  cvssData?: { baseScore?: number; baseSeverity?: string; vectorString?: string; version?: string };
  baseSeverity?: string;
}
interface NvdRecord {
  published?: string;
  lastModified?: string;
  vulnStatus?: string;
  descriptions?: { lang: string; value: string }[];
  metrics?: Record<string, CvssMetric[]>;
  weaknesses?: { description?: { value: string }[] }[];
  references?: { url: string; tags?: string[] }[];
}
interface HubCve {
  cve_id: string;
  record: NvdRecord;
  kev: { date_added?: string; ransomware?: boolean; due_date?: string; [key: string]: unknown } | null;
  epss: { score?: number; percentile?: number; [key: string]: unknown } | null;
  feed_version: number;
}

function Scores({ record }: { record: NvdRecord }) {
  const metrics = Object.entries(record.metrics ?? {}).flatMap(([kind, list]) => list.map((m) => ({ kind, ...m })));
  if (metrics.length === 0) return <p class="muted">NVD has not scored this CVE yet.</p>;
  return (
    <DataTable columns={['CVSS', 'Score', 'Vector', 'Source']}>
      {metrics.map((m, i) => (
        <tr key={i}>
          <td>{m.cvssData?.version ?? m.kind}</td>
          <td>
            <SeverityBadge severity={m.cvssData?.baseSeverity ?? m.baseSeverity ?? 'NONE'} score={m.cvssData?.baseScore} />
          </td>
          <td>
            <code>{m.cvssData?.vectorString ?? '—'}</code>
          </td>
          <td>{m.source ?? '—'}</td>
        </tr>
      ))}
    </DataTable>
  );
}

export function CvePage({ id }: { id: string }) {
  const cveId = id.toUpperCase();
  const record = useGet<HubCve>(`/cves/${encodeURIComponent(cveId)}`);
  const advice = useGet<{ mitigation: string }>(`/scans/cve/mitigation/${encodeURIComponent(cveId)}`);
  const devices = useGet<CveDevice[]>(`/cves/${encodeURIComponent(cveId)}/devices`);
  const siteName = useSiteNames();
  const r = record.data?.record;
  return (
    <>
      <h1>{cveId}</h1>
      <section>
        {record.loading && <Loading />}
        {record.error &&
          (record.error.status === 404 ? (
            <p class="muted">This control plane's feed hub holds no NVD record of {cveId}.</p>
          ) : (
            <ErrorBox error={record.error} />
          ))}
        {r && record.data && (
          <>
            <p>{r.descriptions?.find((d) => d.lang === 'en')?.value ?? r.descriptions?.[0]?.value ?? ''}</p>
            <KeyValues
              rows={[
                ['Published', formatTime(r.published)],
                ['Last modified', formatTime(r.lastModified)],
                ['NVD status', r.vulnStatus ?? '—'],
                [
                  'Known exploited (CISA KEV)',
                  record.data.kev ? `yes, since ${record.data.kev.date_added ?? '?'}${record.data.kev.ransomware ? ', used by ransomware' : ''}` : 'no',
                ],
                [
                  'EPSS',
                  record.data.epss?.score !== undefined
                    ? `${(record.data.epss.score * 100).toFixed(2)} %${record.data.epss.percentile !== undefined ? ` (percentile ${(record.data.epss.percentile * 100).toFixed(0)})` : ''}`
                    : 'none',
                ],
                ['Weakness', (r.weaknesses ?? []).flatMap((w) => (w.description ?? []).map((d) => d.value)).join(', ') || '—'],
              ]}
            />
            <h2>Scores</h2>
            <Scores record={r} />
          </>
        )}
      </section>
      <section>
        <h2>Affected devices</h2>
        <Guard loading={devices.loading} error={devices.error}>
          {() =>
            devices.data?.length === 0 ? (
              <p class="muted">No device of your organization has it.</p>
            ) : (
              <DataTable columns={['Device', 'Site', 'Service', 'Score', 'Status', 'Last seen']}>
                {devices.data?.map((d, i) => (
                  <tr key={`${d.mac_address}-${d.ip_address}-${i}`}>
                    <td>
                      {d.mac_address ? (
                        <Link href={`/devices/${encodeURIComponent(d.mac_address)}`}>
                          <code>{d.mac_address}</code>
                        </Link>
                      ) : (
                        '—'
                      )}
                      <div class="muted small">
                        {d.hostname ?? ''} {d.ip_address ?? ''}
                      </div>
                    </td>
                    <td>
                      <Link href={`/sites/${d.site_id}`}>{siteName(d.site_id)}</Link>
                    </td>
                    <td>
                      {d.port ?? '—'} {d.product ?? ''} {d.version ?? ''}
                    </td>
                    <td>{score(d.score)}</td>
                    <td>
                      <StatusBadge status={d.status} />
                    </td>
                    <td>{formatTime(d.last_seen_at)}</td>
                  </tr>
                ))}
              </DataTable>
            )
          }
        </Guard>
      </section>
      <section>
        <h2>Advice</h2>
        {advice.loading && <Loading />}
        {advice.error &&
          (advice.error.status === 404 ? (
            <p class="muted">No scan of your organization has reported {cveId}, so there is no advice for it.</p>
          ) : (
            <ErrorBox error={advice.error} />
          ))}
        {advice.data && <Markdown text={advice.data.mitigation} />}
      </section>
      {r?.references && r.references.length > 0 && (
        <section>
          <h2>References</h2>
          <ul>
            {r.references.map((ref) => (
              <li key={ref.url}>
                <a href={ref.url} rel="noreferrer noopener" target="_blank">
                  {ref.url}
                </a>
                {ref.tags && ref.tags.length > 0 && <span class="muted small"> ({ref.tags.join(', ')})</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

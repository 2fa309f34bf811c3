/** Small shared pieces of the pages: severity with text, states, tables of facts. */
import type { ComponentChildren } from 'preact';
import type { ApiFailure } from './api.js';
import type { Facts, Severity } from './types.js';

/** Severity as a coloured badge that always carries its word (never colour alone). */
export function SeverityBadge({ severity, score }: { severity: Severity | string; score?: number | null }) {
  const name = String(severity).toUpperCase();
  return (
    <span class={`sev sev-${name.toLowerCase()}`}>
      {name}
      {score !== undefined && score !== null ? ` ${score.toFixed(1)}` : ''}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status.replace(/[^a-z]/gi, '').toLowerCase()}`}>{status}</span>;
}

export function Loading() {
  return (
    <p class="muted" role="status">
      Loading…
    </p>
  );
}

export function ErrorBox({ error }: { error: ApiFailure | string | undefined }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : `${error.message}${error.code ? ` (${error.code})` : ''}`;
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** A state while loading or failed; the page renders only when `ready`. */
export function Guard({ loading, error, children }: { loading: boolean; error: ApiFailure | undefined; children: () => ComponentChildren }) {
  if (error) return <ErrorBox error={error} />;
  if (loading) return <Loading />;
  return <>{children()}</>;
}

/** Facts shown by name below, and a finding's own fields that the tables show in their columns. */
const KNOWN = new Set(['kev', 'epss', 'exposure', 'why', 'priority_rank', 'distro']);
const COLUMNS = new Set([
  'id',
  'cve_id',
  'description',
  'published_at',
  'created_at',
  'vector',
  'score',
  'severity',
  'scan_id',
  'compliance_tags',
  'host',
  'status',
  'other_occurrences',
  'port',
  'service',
  'cpe',
  'confidence',
  'evidence',
  'mac_address',
  'ip_address',
  'hostname',
  'site_id',
  'product',
  'version',
  'last_seen_at',
]);

function factText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/**
 * The fix-first facts of a finding: KEV, EPSS, exposure, the distribution's verdict and the `why`
 * lines; any other fact a newer server adds is listed by its name.
 */
export function FactList({ facts, extra }: { facts: Facts & Record<string, unknown>; extra?: string[] }) {
  const items: ComponentChildren[] = [];
  // The server's `why` lines explain the rank and name KEV, EPSS and exposure; without them, the raw facts.
  if (!facts.why || facts.why.length === 0) {
    if (facts.kev) items.push(<li key="kev">Known exploited (CISA KEV){facts.kev.ransomware ? ', used by ransomware' : ''}</li>);
    if (facts.epss && typeof facts.epss.score === 'number') items.push(<li key="epss">EPSS {(facts.epss.score * 100).toFixed(1)} %</li>);
    if (facts.exposure?.state) items.push(<li key="exp">Exposure: {facts.exposure.state}</li>);
  }
  if (facts.distro?.status)
    items.push(
      <li key="distro">{`${facts.distro.distro ?? 'distro'}: ${facts.distro.status}${facts.distro.fixed_version ? ` (fixed in ${facts.distro.fixed_version})` : ''}`}</li>,
    );
  for (const line of facts.why ?? []) items.push(<li key={`why-${line}`}>{line}</li>);
  for (const key of extra ?? []) {
    if (KNOWN.has(key) || COLUMNS.has(key) || !(key in facts)) continue;
    items.push(<li key={key}>{`${key}: ${factText(facts[key])}`}</li>);
  }
  if (items.length === 0) return null;
  return <ul class="facts">{items}</ul>;
}

export function KeyValues({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {rows.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{value ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A data table: scrollable and focusable for the keyboard; its rows are the children. */
export function DataTable({ columns, children }: { columns: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0}>
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/**
 * An object of counts and states as short lines (`addresses: answered 12, in_scope 254`): for
 * reports' coverage and anything else a newer server adds, without a page change.
 */
export function summarize(value: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    if (Array.isArray(item)) {
      if (item.length > 0) lines.push(typeof item[0] === 'string' ? `${key}: ${item.join('; ')}` : `${key}: ${item.length}`);
    } else if (typeof item === 'object') {
      const scalars = Object.entries(item as Record<string, unknown>).filter(([, v]) => v !== null && typeof v !== 'object');
      if (scalars.length > 0) lines.push(`${key}: ${scalars.map(([k, v]) => (k === 'count' ? String(v) : `${k} ${String(v)}`)).join(', ')}`);
    } else lines.push(`${key}: ${String(item)}`);
  }
  return lines;
}

/** Marks: accept or mitigate a CVE on a device with a justification and an expiry; the history of marks. */
import { useState } from 'preact/hooks';
import { DateTime } from 'luxon';
import { Link } from 'wouter-preact';
import { can, get, post, toFailure, useGet, useSession } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatTime, operatorZone } from '../format.js';
import { navigateTo, useHashQuery } from '../router.js';
import { ErrorBox, Guard, StatusBadge } from '../ui.js';
import type { Mark } from '../types.js';

export function MarkHistory({ marks }: { marks: Mark[] }) {
  if (marks.length === 0)
    return (
      <p class="muted" data-testid="mark-history">
        No marks: every CVE here is open.
      </p>
    );
  return (
    <div class="table-wrap" tabIndex={0}>
      <table data-testid="mark-history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Device</th>
            <th scope="col">CVE</th>
            <th scope="col">Status</th>
            <th scope="col">Justification</th>
            <th scope="col">Expires</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {marks.map((m) => (
            <tr key={m.id}>
              <td>{formatTime(m.created_at)}</td>
              <td>
                <Link href={`/devices/${encodeURIComponent(m.mac_address)}`}>
                  <code>{m.mac_address}</code>
                </Link>
              </td>
              <td>
                <Link class="nowrap" href={`/cves/${m.cve_id}`}>
                  {m.cve_id}
                </Link>
              </td>
              <td>
                <StatusBadge status={m.status} />
              </td>
              <td>{m.justification}</td>
              <td>{m.expiration_date ? formatTime(m.expiration_date) : 'never'}</td>
              <td>{m.created_by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MarkForm({ mac, cve, onSaved }: { mac: string; cve: string; onSaved: () => void }) {
  const [draft, setDraft] = useState({ mac_address: mac, cve_id: cve, status: 'accepted', justification: '', expiration: '' });
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [general, setGeneral] = useState<string>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (key: keyof typeof draft, value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const zone = operatorZone();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors(new Map());
    setGeneral(undefined);
    setDone(undefined);
    try {
      // datetime-local is a wall time in the operator's zone; the API wants an instant with its offset.
      const expiry = draft.expiration ? DateTime.fromISO(draft.expiration, { zone }).toISO() : null;
      const saved = await post<{ message: string }>('/scans/cve/mac-address/cve/status', {
        mac_address: draft.mac_address,
        cve_id: draft.cve_id,
        status: draft.status,
        justification: draft.justification,
        expiration_date: expiry,
      });
      setDone(saved.message);
      setDraft((d) => ({ ...d, justification: '', expiration: '' }));
      onSaved();
    } catch (caught) {
      const failure = toFailure(caught);
      const byField = fieldErrors(failure.message);
      setErrors(byField);
      if (byField.size === 0 || [...byField.keys()].some((k) => !['mac_address', 'cve_id', 'status', 'justification', 'expiration_date'].includes(k)))
        setGeneral(failure.message);
    } finally {
      setBusy(false);
    }
  };
  const err = (field: string) =>
    errors.get(field) && (
      <p class="field-error" id={`error-${field}`} data-testid={`field-error-${field}`}>
        {errors.get(field)}
      </p>
    );
  const aria = (field: string) => (errors.has(field) ? { 'aria-invalid': true, 'aria-describedby': `error-${field}` } : {});
  return (
    <form class="form card" onSubmit={(e) => void submit(e)} noValidate>
      <h2>Accept or mitigate a CVE</h2>
      <ErrorBox error={general} />
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <div class="field">
        <label for="m-mac">Device MAC address</label>
        <input
          id="m-mac"
          value={draft.mac_address}
          placeholder="4C:5E:0C:12:34:56"
          onInput={(e) => set('mac_address', e.currentTarget.value)}
          {...aria('mac_address')}
        />
        {err('mac_address')}
      </div>
      <div class="field">
        <label for="m-cve">CVE id</label>
        <input id="m-cve" value={draft.cve_id} placeholder="CVE-2023-12345" onInput={(e) => set('cve_id', e.currentTarget.value)} {...aria('cve_id')} />
        {err('cve_id')}
      </div>
      <div class="field">
        <label for="m-status">Mark as</label>
        <select id="m-status" value={draft.status} onChange={(e) => set('status', e.currentTarget.value)} {...aria('status')}>
          <option value="accepted">accepted (the risk is known and taken)</option>
          <option value="mitigated">mitigated (fixed another way)</option>
        </select>
        {err('status')}
      </div>
      <div class="field">
        <label for="m-why">Justification (10 to 1000 characters)</label>
        <textarea id="m-why" rows={3} value={draft.justification} onInput={(e) => set('justification', e.currentTarget.value)} {...aria('justification')} />
        {err('justification')}
      </div>
      <div class="field">
        <label for="m-expiry">Expires ({zone}; empty: never)</label>
        <input
          id="m-expiry"
          type="datetime-local"
          value={draft.expiration}
          onInput={(e) => set('expiration', e.currentTarget.value)}
          {...aria('expiration_date')}
        />
        {err('expiration_date')}
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save mark
        </button>
      </div>
    </form>
  );
}

interface MarkPage {
  data: Mark[];
  next_cursor: string | null;
}

export function Marks() {
  const who = useSession();
  const query = useHashQuery();
  const mac = query.get('mac') ?? '';
  const cve = query.get('cve') ?? '';
  const status = query.get('status') ?? '';
  const params = new URLSearchParams({ limit: '100' });
  if (mac) params.set('mac_address', mac);
  if (cve) params.set('cve_id', cve);
  if (status) params.set('status', status);
  const marks = useGet<MarkPage>(`/scans/cve/mac-address/cve/status?${params}`);
  const [more, setMore] = useState<Mark[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const next = cursor === undefined ? marks.data?.next_cursor : cursor;
  const loadMore = async () => {
    if (!next) return;
    const page = await get<MarkPage>(`/scans/cve/mac-address/cve/status?${params}&cursor=${encodeURIComponent(next)}`);
    setMore((list) => [...list, ...page.data]);
    setCursor(page.next_cursor);
  };
  const filter = (key: string, value: string) => {
    const merged = new URLSearchParams({ mac, cve, status, [key]: value });
    for (const [k, v] of [...merged]) if (!v) merged.delete(k);
    navigateTo(`/marks${merged.size > 0 ? `?${merged}` : ''}`, { replace: true });
  };
  return (
    <>
      <h1>Marks</h1>
      <p class="muted">An accepted or mitigated CVE stops counting as open on that device until the mark expires or the device reports another version.</p>
      {can('cve:update', who) && (
        <MarkForm
          key={`${mac}-${cve}`}
          mac={mac}
          cve={cve}
          onSaved={() => {
            setMore([]);
            setCursor(undefined);
            marks.reload();
          }}
        />
      )}
      <h2>History</h2>
      <div class="filters">
        <div class="field">
          <label for="mf-status">Status</label>
          <select id="mf-status" value={status} onChange={(e) => filter('status', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="accepted">accepted</option>
            <option value="mitigated">mitigated</option>
          </select>
        </div>
        {(mac || cve) && (
          <p>
            Only {mac && <code>{mac}</code>} {cve && <code>{cve}</code>} · <Link href="/marks">all marks</Link>
          </p>
        )}
      </div>
      <Guard loading={marks.loading && !marks.data} error={marks.error}>
        {() => (
          <>
            <MarkHistory marks={[...(marks.data?.data ?? []), ...more]} />
            {next && (
              <button type="button" onClick={() => void loadMore()}>
                Show older marks
              </button>
            )}
          </>
        )}
      </Guard>
    </>
  );
}

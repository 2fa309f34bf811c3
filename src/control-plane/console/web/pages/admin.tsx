/** Admin: operators (add, remove) and API tokens (mint, shown once; revoke). */
import { useState } from 'preact/hooks';
import { can, del, post, toFailure, useGet, useSession } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatTime } from '../format.js';
import { DataTable, ErrorBox, Guard } from '../ui.js';
import type { OperatorRow, TokenRow } from '../types.js';

const SCOPES = ['cve:view', 'cve:create', 'cve:update', 'cve:delete', 'cp:admin'];

function useAction() {
  const [error, setError] = useState<string>();
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    setErrors(new Map());
    try {
      await work();
      return true;
    } catch (caught) {
      const failure = toFailure(caught);
      const byField = fieldErrors(failure.message);
      setErrors(byField);
      // A message that names a field shows beside it; anything else above the forms.
      if (byField.size === 0) setError(failure.message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, errors, busy, run };
}

function FieldError({ errors, field }: { errors: Map<string, string>; field: string }) {
  const text = errors.get(field);
  if (!text) return null;
  return (
    <p class="field-error" data-testid={`field-error-${field}`}>
      {text}
    </p>
  );
}

function Operators() {
  const who = useSession();
  const operators = useGet<OperatorRow[]>('/console/operators');
  const action = useAction();
  const [draft, setDraft] = useState({ email: '', name: '', role: 'viewer', password: '' });
  const set = (key: keyof typeof draft, value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const add = async (event: Event) => {
    event.preventDefault();
    if (await action.run(() => post('/console/operators', draft))) {
      setDraft({ email: '', name: '', role: 'viewer', password: '' });
      operators.reload();
    }
  };
  const remove = async (operator: OperatorRow) => {
    if (window.confirm(`Remove ${operator.email}? Their sessions end.`) && (await action.run(() => del(`/console/operators/${operator.id}`))))
      operators.reload();
  };
  return (
    <section>
      <h2>Operators</h2>
      <ErrorBox error={action.error} />
      <Guard loading={operators.loading && !operators.data} error={operators.error}>
        {() => (
          <DataTable columns={['Email', 'Name', 'Role', 'Added', 'Actions']}>
            {operators.data?.map((o) => (
              <tr key={o.id}>
                <td>{o.email}</td>
                <td>{o.name}</td>
                <td>{o.role}</td>
                <td>{formatTime(o.created_at)}</td>
                <td>
                  {o.id !== who?.operator.id ? (
                    <button type="button" class="danger" disabled={action.busy} onClick={() => void remove(o)}>
                      Remove
                    </button>
                  ) : (
                    <span class="muted">you</span>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Guard>
      <form class="form card" onSubmit={(e) => void add(e)} noValidate>
        <h3>Add an operator</h3>
        <div class="field">
          <label for="op-email">Email</label>
          <input id="op-email" type="email" autoComplete="off" value={draft.email} onInput={(e) => set('email', e.currentTarget.value)} />
          <FieldError errors={action.errors} field="email" />
        </div>
        <div class="field">
          <label for="op-name">Name</label>
          <input id="op-name" value={draft.name} onInput={(e) => set('name', e.currentTarget.value)} />
          <FieldError errors={action.errors} field="name" />
        </div>
        <div class="field">
          <label for="op-role">Role</label>
          <select id="op-role" value={draft.role} onChange={(e) => set('role', e.currentTarget.value)}>
            <option value="viewer">viewer (reads)</option>
            <option value="operator">operator (schedules, scans, marks)</option>
            <option value="admin">admin (also sites, tokens, operators)</option>
          </select>
        </div>
        <div class="field">
          <label for="op-password">Initial password (at least 12 characters)</label>
          <input id="op-password" type="password" autoComplete="new-password" value={draft.password} onInput={(e) => set('password', e.currentTarget.value)} />
          <FieldError errors={action.errors} field="password" />
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Add operator
          </button>
        </div>
      </form>
    </section>
  );
}

function Tokens() {
  const tokens = useGet<TokenRow[]>('/console/tokens');
  const action = useAction();
  const [minted, setMinted] = useState<{ name: string; token: string }>();
  const [draft, setDraft] = useState({ name: '', days: '90', scopes: new Set(['cve:view']) });
  const toggle = (scope: string) =>
    setDraft((d) => {
      const scopes = new Set(d.scopes);
      if (scopes.has(scope)) scopes.delete(scope);
      else scopes.add(scope);
      return { ...d, scopes };
    });
  const mint = async (event: Event) => {
    event.preventDefault();
    setMinted(undefined);
    await action.run(async () => {
      const made = await post<{ name: string; token: string }>('/console/tokens', {
        name: draft.name,
        scopes: [...draft.scopes],
        expires_in_days: Number(draft.days),
      });
      setMinted(made);
      tokens.reload();
    });
  };
  const revoke = async (token: TokenRow) => {
    if (
      window.confirm(`Revoke the token "${token.name}"? Scripts using it get 401 from now on.`) &&
      (await action.run(() => del(`/console/tokens/${token.id}`)))
    )
      tokens.reload();
  };
  return (
    <section>
      <h2>API tokens</h2>
      <ErrorBox error={action.error} />
      {minted && (
        <div class="token-once" role="status">
          <p>
            <strong>Copy the token "{minted.name}" now: it is shown only once.</strong>
          </p>
          <pre>
            <code data-testid="token-once">{minted.token}</code>
          </pre>
          <button type="button" onClick={() => setMinted(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      <Guard loading={tokens.loading && !tokens.data} error={tokens.error}>
        {() =>
          tokens.data?.length === 0 ? (
            <p class="muted">No tokens yet. Mint one below for a script or an integration.</p>
          ) : (
            <DataTable columns={['Name', 'Scopes', 'Created', 'Expires', 'State', 'Actions']}>
              {tokens.data?.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{Array.isArray(t.scopes) ? t.scopes.join(' ') : t.scopes}</td>
                  <td>
                    {formatTime(t.created_at)}
                    <div class="muted small">by {t.created_by}</div>
                  </td>
                  <td>{formatTime(t.expires_at)}</td>
                  <td>{t.revoked_at ? `revoked ${formatTime(t.revoked_at)}` : Date.parse(t.expires_at) < Date.now() ? 'expired' : 'active'}</td>
                  <td>
                    {!t.revoked_at && (
                      <button type="button" class="danger" disabled={action.busy} onClick={() => void revoke(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Guard>
      <form class="form card" onSubmit={(e) => void mint(e)} noValidate>
        <h3>Mint a token</h3>
        <div class="field">
          <label for="tok-name">Name</label>
          <input id="tok-name" value={draft.name} onInput={(e) => setDraft((d) => ({ ...d, name: e.currentTarget.value }))} />
          <FieldError errors={action.errors} field="name" />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          <FieldError errors={action.errors} field="scopes" />
          {SCOPES.map((scope) => (
            <div class="field inline" key={scope}>
              <input id={`tok-scope-${scope}`} type="checkbox" checked={draft.scopes.has(scope)} onChange={() => toggle(scope)} />
              <label for={`tok-scope-${scope}`}>{scope}</label>
            </div>
          ))}
        </fieldset>
        <div class="field">
          <label for="tok-days">Expires in days (1 to 365)</label>
          <input id="tok-days" inputMode="numeric" value={draft.days} onInput={(e) => setDraft((d) => ({ ...d, days: e.currentTarget.value }))} />
          <FieldError errors={action.errors} field="expires_in_days" />
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Mint token
          </button>
        </div>
      </form>
    </section>
  );
}

export function Admin() {
  const who = useSession();
  if (!can('cp:admin', who))
    return (
      <>
        <h1>Admin</h1>
        <p>Only an administrator manages operators and API tokens.</p>
      </>
    );
  return (
    <>
      <h1>Admin</h1>
      <Operators />
      <Tokens />
    </>
  );
}

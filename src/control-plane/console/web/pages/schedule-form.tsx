/** Create or edit a schedule; the API's validation messages appear next to their fields. */
import { useEffect, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { can, post, put, toFailure, useGet, useSession } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { DAYS, formatTime, nextRuns, operatorZone } from '../format.js';
import { useSites } from '../sites-index.js';
import { DataTable, ErrorBox, Guard, KeyValues } from '../ui.js';
import type { Schedule } from '../types.js';
import { ScheduleActions } from './schedules.js';

interface Draft {
  description: string;
  day_of_week: string;
  time_of_day: string;
  every_n_weeks: string;
  timezone: string;
  min_cvss: string;
  warning_threshold: string;
  ignore_offline_sites: boolean;
  notification_group: string;
  sites: { id: string; subnet: string }[];
}

const blank = (): Draft => ({
  description: '',
  day_of_week: '1',
  time_of_day: '02:00',
  every_n_weeks: '2',
  timezone: operatorZone(),
  min_cvss: '4',
  warning_threshold: '7',
  ignore_offline_sites: false,
  notification_group: '',
  sites: [{ id: '', subnet: '' }],
});

const draftOf = (s: Schedule): Draft => ({
  description: s.description,
  day_of_week: String(s.day_of_week),
  time_of_day: s.time_of_day,
  every_n_weeks: String(s.every_n_weeks),
  timezone: s.timezone,
  min_cvss: String(s.min_cvss),
  warning_threshold: String(s.warning_threshold),
  ignore_offline_sites: s.ignore_offline_sites,
  notification_group: s.notification_group,
  sites: s.sites.map((site) => ({ ...site })),
});

/** Numbers as numbers when they are numbers; otherwise the text goes as typed and the API says what is wrong. */
const num = (text: string): number | string => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);

const bodyOf = (d: Draft) => ({
  description: d.description,
  day_of_week: num(d.day_of_week),
  time_of_day: d.time_of_day,
  every_n_weeks: num(d.every_n_weeks),
  timezone: d.timezone,
  min_cvss: num(d.min_cvss),
  warning_threshold: num(d.warning_threshold),
  ignore_offline_sites: d.ignore_offline_sites,
  notification_group: d.notification_group,
  sites: d.sites,
});

function FieldError({ field, errors }: { field: string; errors: Map<string, string> }) {
  const text = errors.get(field);
  if (!text) return null;
  return (
    <p class="field-error" id={`error-${field}`} data-testid={`field-error-${field}`}>
      {text}
    </p>
  );
}

const described = (field: string, errors: Map<string, string>) => (errors.has(field) ? { 'aria-describedby': `error-${field}`, 'aria-invalid': true } : {});

function ZONES(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
}

export function ScheduleForm({ id }: { id?: string }) {
  const who = useSession();
  const [, navigate] = useLocation();
  const existing = useGet<Schedule>(id ? `/scans/cve/scheduled/${encodeURIComponent(id)}` : null);
  const sites = useSites();
  const [draft, setDraft] = useState<Draft>(blank);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [general, setGeneral] = useState<string>();
  const [busy, setBusy] = useState(false);
  const editable = id ? can('cve:update', who) : can('cve:create', who);

  useEffect(() => {
    if (existing.data) setDraft(draftOf(existing.data));
  }, [existing.data]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setSite = (i: number, key: 'id' | 'subnet', value: string) =>
    setDraft((d) => ({ ...d, sites: d.sites.map((s, j) => (j === i ? { ...s, [key]: value } : s)) }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setGeneral(undefined);
    setErrors(new Map());
    try {
      const saved = id ? await put<Schedule>(`/scans/cve/scheduled/${id}`, bodyOf(draft)) : await post<Schedule>('/scans/cve/scheduled', bodyOf(draft));
      if (id) {
        existing.set(() => saved);
        setGeneral(undefined);
      } else navigate(`/schedules/${saved.id}`);
    } catch (caught) {
      const failure = toFailure(caught);
      const byField = fieldErrors(failure.message);
      setErrors(byField);
      // What no field shows (the whole body, a 409, the network) goes above the form.
      const shown = [...byField.keys()].every((field) => FIELDS.has(field) || /^sites\[\d+\]\.(id|subnet)$/.test(field) || field === 'sites');
      if (byField.size === 0 || !shown) setGeneral(failure.message);
    } finally {
      setBusy(false);
    }
  };

  const title = id ? `Schedule ${existing.data?.description || id.slice(0, 8)}` : 'New schedule';
  const zone = operatorZone();
  const data = existing.data;
  return (
    <>
      <h1>{title}</h1>
      <p>
        <Link href="/schedules">All schedules</Link>
      </p>
      <Guard loading={id !== undefined && existing.loading && !data} error={existing.error}>
        {() => (
          <>
            {data && (
              <section aria-label="Next runs">
                <h2>Next runs</h2>
                <DataTable columns={["In the schedule's zone", 'In your zone']}>
                  {nextRuns(data.next_scan_at, data.every_n_weeks, data.timezone).map((run) => (
                    <tr key={run}>
                      <td>{formatTime(run, data.timezone)}</td>
                      <td>{formatTime(run, zone)}</td>
                    </tr>
                  ))}
                </DataTable>
                <p class="muted small">Last run: {formatTime(data.last_run_at, data.timezone)}</p>
                <ScheduleActions schedule={data} onChange={existing.reload} edit={false} />
                <p>
                  <Link href={`/scans?schedule=${data.id}`}>Scans of this schedule</Link>
                </p>
              </section>
            )}
            {!editable && data && <ScheduleFacts schedule={data} siteName={(siteId) => sites.find((x) => x.id === siteId)?.name ?? siteId} />}
            {!editable && !data && <p>Your role cannot create schedules; an operator or an administrator can.</p>}
            {editable && (
              <form class="form card" onSubmit={(e) => void submit(e)} noValidate>
                <h2>{id ? 'Edit' : 'Settings'}</h2>
                <ErrorBox error={general} />
                <fieldset>
                  <legend>When</legend>
                  <div class="field">
                    <label for="f-description">Description</label>
                    <input
                      id="f-description"
                      value={draft.description}
                      onInput={(e) => set('description', e.currentTarget.value)}
                      {...described('description', errors)}
                    />
                    <FieldError field="description" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-day">Day of week</label>
                    <select
                      id="f-day"
                      value={draft.day_of_week}
                      onChange={(e) => set('day_of_week', e.currentTarget.value)}
                      {...described('day_of_week', errors)}
                    >
                      {DAYS.map((day, i) => (
                        <option key={day} value={String(i)}>
                          {day}
                        </option>
                      ))}
                    </select>
                    <FieldError field="day_of_week" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-time">Time of day (HH:mm, 24 h)</label>
                    <input
                      id="f-time"
                      value={draft.time_of_day}
                      onInput={(e) => set('time_of_day', e.currentTarget.value)}
                      {...described('time_of_day', errors)}
                    />
                    <FieldError field="time_of_day" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-weeks">Every n weeks (2 to 52)</label>
                    <input
                      id="f-weeks"
                      inputMode="numeric"
                      value={draft.every_n_weeks}
                      onInput={(e) => set('every_n_weeks', e.currentTarget.value)}
                      {...described('every_n_weeks', errors)}
                    />
                    <FieldError field="every_n_weeks" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-zone">Time zone (IANA)</label>
                    <input
                      id="f-zone"
                      list="zones"
                      value={draft.timezone}
                      onInput={(e) => set('timezone', e.currentTarget.value)}
                      {...described('timezone', errors)}
                    />
                    <datalist id="zones">
                      {ZONES().map((z) => (
                        <option key={z} value={z} />
                      ))}
                    </datalist>
                    <FieldError field="timezone" errors={errors} />
                  </div>
                </fieldset>
                <fieldset>
                  <legend>Findings</legend>
                  <div class="field">
                    <label for="f-min">Minimum CVSS to report (0 to 10)</label>
                    <input
                      id="f-min"
                      inputMode="decimal"
                      value={draft.min_cvss}
                      onInput={(e) => set('min_cvss', e.currentTarget.value)}
                      {...described('min_cvss', errors)}
                    />
                    <FieldError field="min_cvss" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-warn">Warning threshold (above the minimum)</label>
                    <input
                      id="f-warn"
                      inputMode="decimal"
                      value={draft.warning_threshold}
                      onInput={(e) => set('warning_threshold', e.currentTarget.value)}
                      {...described('warning_threshold', errors)}
                    />
                    <FieldError field="warning_threshold" errors={errors} />
                  </div>
                  <div class="field">
                    <label for="f-group">Notification group</label>
                    <input
                      id="f-group"
                      value={draft.notification_group}
                      onInput={(e) => set('notification_group', e.currentTarget.value)}
                      {...described('notification_group', errors)}
                    />
                    <FieldError field="notification_group" errors={errors} />
                  </div>
                  <div class="field inline">
                    <input
                      id="f-offline"
                      type="checkbox"
                      checked={draft.ignore_offline_sites}
                      onChange={(e) => set('ignore_offline_sites', e.currentTarget.checked)}
                    />
                    <label for="f-offline">Skip sites that are offline when the scan starts</label>
                  </div>
                </fieldset>
                <fieldset>
                  <legend>Sites and subnets</legend>
                  <FieldError field="sites" errors={errors} />
                  {draft.sites.map((site, i) => (
                    <div class="site-row" key={i}>
                      <div class="field">
                        <label for={`f-site-${i}`}>Site {i + 1}</label>
                        <select
                          id={`f-site-${i}`}
                          value={site.id}
                          onChange={(e) => setSite(i, 'id', e.currentTarget.value)}
                          {...described(`sites[${i}].id`, errors)}
                        >
                          <option value="">Choose a site</option>
                          {sites.map((s) => (
                            <option key={s.id} value={s.id}>
                              {s.name}
                            </option>
                          ))}
                          {site.id && !sites.some((s) => s.id === site.id) && <option value={site.id}>{site.id}</option>}
                        </select>
                        <FieldError field={`sites[${i}].id`} errors={errors} />
                      </div>
                      <div class="field">
                        <label for={`f-subnet-${i}`}>Subnet {i + 1} (CIDR)</label>
                        <input
                          id={`f-subnet-${i}`}
                          placeholder="192.168.88.0/24"
                          value={site.subnet}
                          onInput={(e) => setSite(i, 'subnet', e.currentTarget.value)}
                          {...described(`sites[${i}].subnet`, errors)}
                        />
                        <FieldError field={`sites[${i}].subnet`} errors={errors} />
                      </div>
                      {draft.sites.length > 1 && (
                        <button
                          type="button"
                          onClick={() =>
                            set(
                              'sites',
                              draft.sites.filter((_, j) => j !== i),
                            )
                          }
                        >
                          Remove site {i + 1}
                        </button>
                      )}
                    </div>
                  ))}
                  <button type="button" onClick={() => set('sites', [...draft.sites, { id: '', subnet: '' }])}>
                    Add a site
                  </button>
                </fieldset>
                <div class="actions">
                  <button type="submit" class="primary" disabled={busy}>
                    {id ? 'Save changes' : 'Create schedule'}
                  </button>
                </div>
              </form>
            )}
          </>
        )}
      </Guard>
    </>
  );
}

/** What a role without the write scope sees instead of the form. */
function ScheduleFacts({ schedule: s, siteName }: { schedule: Schedule; siteName: (id: string) => string }) {
  return (
    <section>
      <h2>Settings</h2>
      <KeyValues
        rows={[
          ['When', `${DAYS[s.day_of_week]} ${s.time_of_day} ${s.timezone}, every ${s.every_n_weeks} weeks`],
          ['Minimum CVSS', String(s.min_cvss)],
          ['Warning threshold', String(s.warning_threshold)],
          ['Notification group', s.notification_group],
          ['Offline sites', s.ignore_offline_sites ? 'skipped' : 'waited for'],
          ['Sites', s.sites.map((site) => `${siteName(site.id)} ${site.subnet}`).join(', ')],
        ]}
      />
    </section>
  );
}

const FIELDS = new Set(['description', 'day_of_week', 'time_of_day', 'every_n_weeks', 'timezone', 'min_cvss', 'warning_threshold', 'notification_group']);

/** The console's entry: restores the session, opens the live socket, routes by hash. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter-preact';
import { can, del, get, setSession, useSession, type Session } from './api.js';
import { useHashPath } from './router.js';
import { labelTablesIn } from './table-labels.js';
import { onLiveState, liveState, startLive, stopLive, type LiveState } from './live.js';
import { Admin } from './pages/admin.js';
import { CvePage } from './pages/cve.js';
import { DeviceDetailPage, DevicesPage } from './pages/devices.js';
import { Login } from './pages/login.js';
import { Marks } from './pages/marks.js';
import { OverviewPage } from './pages/overview.js';
import { ReportPage } from './pages/report.js';
import { ScanDetailPage } from './pages/scan-detail.js';
import { ScansPage } from './pages/scans.js';
import { ScheduleForm } from './pages/schedule-form.js';
import { SchedulesPage } from './pages/schedules.js';
import { SiteDetailPage, SitesPage } from './pages/sites.js';
import './style.css';

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/sites', 'Sites'],
  ['/schedules', 'Schedules'],
  ['/scans', 'Scans'],
  ['/devices', 'Devices'],
  ['/marks', 'Marks'],
];

function LiveIndicator() {
  const [state, setState] = useState<LiveState>(liveState());
  useEffect(() => {
    const unsubscribe = onLiveState(setState);
    setState(liveState()); // a change between render and this effect
    return unsubscribe;
  }, []);
  const text = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline, reconnecting';
  return <span class={`live live-${state}`}>{text}</span>;
}

function Shell({ who }: { who: Session }) {
  const [path] = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const signOut = async (everywhere: boolean) => {
    try {
      await del(everywhere ? '/console/sessions' : '/console/session');
    } finally {
      stopLive();
      setSession(null);
      location.hash = '#/login';
    }
  };
  const links = can('cp:admin', who) ? [...NAV, ['/admin', 'Admin'] as [string, string]] : NAV;
  const active = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">edge-cve</span>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <LiveIndicator />
        <span class="who">
          {who.operator.name} <span class="muted">({who.operator.role})</span>
        </span>
        <button type="button" class="link" onClick={() => void signOut(false)}>
          Sign out
        </button>
        <button type="button" class="link" onClick={() => void signOut(true)}>
          Sign out everywhere
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'nav open' : 'nav'} aria-label="Main">
        <ul>
          {links.map(([href, label]) => (
            <li key={href}>
              <Link href={href} class={active(href) ? 'active' : ''} aria-current={active(href) ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/" component={OverviewPage} />
          <Route path="/sites" component={SitesPage} />
          <Route path="/sites/:id">{(p) => <SiteDetailPage id={p.id} />}</Route>
          <Route path="/schedules" component={SchedulesPage} />
          <Route path="/schedules/new">{() => <ScheduleForm />}</Route>
          <Route path="/schedules/:id">{(p) => <ScheduleForm id={p.id} />}</Route>
          <Route path="/scans" component={ScansPage} />
          <Route path="/scans/:id">{(p) => <ScanDetailPage id={p.id} />}</Route>
          <Route path="/devices" component={DevicesPage} />
          <Route path="/devices/:mac">{(p) => <DeviceDetailPage mac={decodeURIComponent(p.mac)} />}</Route>
          <Route path="/cves/:id">{(p) => <CvePage id={p.id} />}</Route>
          <Route path="/marks" component={Marks} />
          <Route path="/reports/:scanId">{(p) => <ReportPage scanId={p.scanId} />}</Route>
          <Route path="/admin" component={Admin} />
          <Route>
            <h1>Not found</h1>
            <p>
              No console page at this address. <Link href="/">Go to the overview</Link>.
            </p>
          </Route>
        </Switch>
      </main>
    </div>
  );
}

function App() {
  const who = useSession();
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    get<Session>('/console/session')
      .then(
        (found) => setSession(found),
        () => setSession(null),
      )
      .finally(() => setChecked(true));
  }, []);
  useEffect(() => {
    if (who) startLive();
  }, [who]);
  if (!checked) return null;
  return (
    <Router hook={useHashPath}>
      <Switch>
        <Route path="/login">{who ? <Redirect to="/" replace /> : <Login />}</Route>
        <Route>{who ? <Shell who={who} /> : <Login />}</Route>
      </Switch>
    </Router>
  );
}

const appRoot = document.getElementById('app') as HTMLElement;
render(<App />, appRoot);
labelTablesIn(appRoot);

/** Sign in with email and password: POST /console/session sets the cookie and returns the CSRF token. */
import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { post, setSession, toFailure, type Session } from '../api.js';

export function Login() {
  const [, navigate] = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await post<Session>('/console/session', { email, password });
      setSession(session);
      // Signed in at a deep link (#/scans/…): stay there; from #/login, go to the overview.
      if (location.hash.startsWith('#/login') || location.hash === '') navigate('/');
    } catch (caught) {
      const failure = toFailure(caught);
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="card" onSubmit={(e) => void submit(e)}>
        <h1>Sign in to edge-cve</h1>
        <label for="login-email">Email</label>
        <input id="login-email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="muted small">
          No account? An administrator adds one with <code>cve-control-plane operators add</code>.
        </p>
      </form>
    </main>
  );
}

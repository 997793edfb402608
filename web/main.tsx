/**
 * The Batchron dashboard. Sign-in first: a `?token=` in the address (the URL `npm start`
 * prints) is taken out of the address bar and the history at once, then traded for an
 * HttpOnly session cookie; without one the page asks for a token. Then the views, each
 * named by the URL's hash.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { api, ApiError, setBearer, setSignedOutHandler, type Role } from './api.ts';
import { beginSignIn, completeSignIn, forgetToken, storedToken, type OidcConfig } from './oidc.ts';
import { useRoute } from './router.ts';
import { NowPage } from './pages/now.tsx';
import { SchedulesPage } from './pages/schedules.tsx';
import { SchedulePage } from './pages/schedule.tsx';
import { RunsPage } from './pages/runs.tsx';
import { RunPage } from './pages/run.tsx';

type Session =
  | { state: 'checking' }
  | { state: 'signed-out'; message?: string; oidc?: OidcConfig | undefined }
  | { state: 'signed-in'; role: Role; oidc?: OidcConfig | undefined };

/** How this server signs browsers in: a token (the local stack) or OIDC (AWS). */
async function signInMode(): Promise<OidcConfig | undefined> {
  const res = await fetch('/auth/session', { credentials: 'same-origin' }).catch(() => undefined);
  const body = res?.ok ? ((await res.json().catch(() => ({}))) as { signIn?: string }) : {};
  return body.signIn === 'oidc' ? (body as OidcConfig) : undefined;
}

/** Trades a token for the session cookie; the local gateway answers `/auth/session`. */
async function signIn(token: string): Promise<void> {
  const res = await fetch('/auth/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new ApiError(res.status, 'Unauthorized', body?.error?.message ?? 'That token was not accepted.');
  }
}

async function start(): Promise<Session> {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token !== null) {
    // Out of the address bar and the history before anything else happens.
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    try {
      await signIn(token);
    } catch (error) {
      return { state: 'signed-out', message: (error as Error).message };
    }
  }
  // Back from an OIDC provider: trade the code first. Otherwise ask who we are straight away
  // (a returning user's cookie or stored token), and how to sign in only when that fails.
  const returning = url.searchParams.has('code') ? await signInMode() : undefined;
  try {
    if (returning) {
      const idToken = await completeSignIn(returning);
      if (idToken) setBearer(idToken);
    } else {
      const stored = storedToken();
      if (stored) setBearer(stored);
    }
    const me = await api.me();
    return { state: 'signed-in', role: me.role, ...(returning ? { oidc: returning } : {}) };
  } catch (error) {
    forgetToken();
    setBearer(undefined);
    const oidc = returning ?? (await signInMode());
    if (error instanceof ApiError && error.status === 401) return { state: 'signed-out', oidc };
    return { state: 'signed-out', message: (error as Error).message, oidc };
  }
}

function SignIn({ message, onDone, oidc }: { message?: string | undefined; onDone: (s: Session) => void; oidc?: OidcConfig | undefined }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(message);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await signIn(token.trim());
      const me = await api.me();
      onDone({ state: 'signed-in', role: me.role });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (oidc) {
    return (
      <main id="main" class="signin">
        <h1>Sign in to Batchron</h1>
        <p>Sign in with your team's account; operators may trigger, cancel, pause, backfill and re-run.</p>
        <button type="button" onClick={() => void beginSignIn(oidc)}>
          Sign in
        </button>
        {error && (
          <p class="problem" role="alert">
            {error}
          </p>
        )}
      </main>
    );
  }
  return (
    <main id="main" class="signin">
      <h1>Sign in to Batchron</h1>
      <p>
        Open the address <code>npm start</code> prints, or paste a token: <code>.batchron/api-token</code> (operator) or{' '}
        <code>.batchron/viewer-token</code> (read only).
      </p>
      <form onSubmit={submit}>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        <button type="submit">Sign in</button>
      </form>
      {error && (
        <p class="problem" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

const NAV = [
  ['now', 'Now'],
  ['schedules', 'Schedules'],
  ['runs', 'Runs'],
] as const;

function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const route = useRoute();
  useEffect(() => {
    setSignedOutHandler(() => {
      forgetToken();
      setSession((s) => ({ state: 'signed-out', message: 'Your session ended; sign in again.', oidc: s.state === 'checking' ? undefined : s.oidc }));
    });
    void start().then(setSession);
  }, []);
  useEffect(() => {
    const titles: Record<string, string> = { now: 'Now', schedules: 'Schedules', schedule: route.id ?? '', runs: 'Runs', run: route.id ?? '', notfound: 'Not found' };
    document.title = `${titles[route.view]} · Batchron`;
  }, [route]);

  if (session.state === 'checking') return <p class="muted pad">Signing in…</p>;
  if (session.state === 'signed-out') return <SignIn message={session.message} oidc={session.oidc} onDone={setSession} />;

  const wall = route.view === 'now' && route.query.get('wall') === '1';
  const operator = session.role === 'operator';
  const current = route.view === 'schedule' ? 'schedules' : route.view === 'run' ? 'runs' : route.view;
  return (
    <div class={wall ? 'wall' : ''}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      {!wall && (
        <header class="top">
          <span class="brand">Batchron</span>
          <nav aria-label="Views">
            {NAV.map(([view, label]) => (
              <a key={view} href={`#/${view}`} aria-current={current === view ? 'page' : undefined}>
                {label}
              </a>
            ))}
          </nav>
          <span class="role" title={operator ? 'May trigger, cancel, pause, backfill and re-run' : 'Read only'}>
            {operator ? 'operator' : 'viewer'}
          </span>
          <button
            class="link"
            type="button"
            onClick={() => {
              forgetToken();
              setBearer(undefined);
              void fetch('/auth/session', { method: 'DELETE' }).then(() => setSession({ state: 'signed-out', message: 'Signed out.', oidc: session.oidc }));
            }}
          >
            Sign out
          </button>
        </header>
      )}
      <main id="main" tabIndex={-1}>
        {route.view === 'now' && <NowPage wall={wall} />}
        {route.view === 'schedules' && <SchedulesPage query={route.query} operator={operator} />}
        {route.view === 'schedule' && <SchedulePage name={route.id!} query={route.query} operator={operator} />}
        {route.view === 'runs' && <RunsPage query={route.query} />}
        {route.view === 'run' && <RunPage id={route.id!} query={route.query} operator={operator} />}
        {route.view === 'notfound' && (
          <>
            <h1>Not found</h1>
            <p>
              There is no such view. <a href="#/now">Go to Now</a>.
            </p>
          </>
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);

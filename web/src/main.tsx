import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { authHooks } from './api';
import { beginSignIn, completeSignIn, currentSession, refreshSession, type Session, signOut } from './auth';
import { DirectoryPage } from './pages/Directory';
import { LogsPage } from './pages/Logs';
import { OrganizationPage } from './pages/Organization';
import { PeoplePage } from './pages/People';
import { ReadinessPage } from './pages/Readiness';
import { SharingPage } from './pages/Sharing';
import { SyncPage } from './pages/Sync';
import { Alert, Field } from './ui';
import './styles.css';

const PAGES = [
  { path: 'organization', label: 'Organization', Component: OrganizationPage },
  { path: 'sharing', label: 'Sharing', Component: SharingPage },
  { path: 'sync', label: 'Sync jobs', Component: SyncPage },
  { path: 'logs', label: 'Provisioning logs', Component: LogsPage },
  { path: 'directory', label: 'Directory', Component: DirectoryPage },
  { path: 'people', label: 'People search', Component: PeoplePage },
  { path: 'readiness', label: 'Readiness', Component: ReadinessPage },
] as const;

const routeOf = () => location.hash.replace(/^#\/?/, '') || 'organization';

function SignIn({ error }: { error: string | null }) {
  const [tenant, setTenant] = useState(localStorage.getItem('openmto.lastTenant') ?? '');
  const [problem, setProblem] = useState<string | null>(error);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" className="signin">
      <h1>Sign in to the openmto console</h1>
      <p>Sign in as an administrator of your tenant. You will be sent to your tenant's sign-in page and back.</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const t = tenant.trim();
          if (!t) {
            setProblem('Type your tenant domain (for example contoso.openmto.test) or its id.');
            return;
          }
          setBusy(true);
          localStorage.setItem('openmto.lastTenant', t);
          try {
            await beginSignIn(t);
          } catch (err) {
            setProblem((err as Error).message);
            setBusy(false);
          }
        }}
      >
        <Field label="Tenant domain or id" hint="For example contoso.openmto.test">
          {(id, hint) => (
            <input id={id} aria-describedby={hint} name="tenant" autoComplete="organization" value={tenant} onChange={(e) => setTenant(e.target.value)} />
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <Alert message={problem} />
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [route, setRoute] = useState(routeOf());
  useEffect(() => {
    const on = () => setRoute(routeOf());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const page = PAGES.find((p) => p.path === route) ?? PAGES[0];
  return (
    <>
      <button type="button" className="skip" onClick={() => document.getElementById('page-title')?.focus()}>
        Skip to content
      </button>
      <header className="top">
        <span className="brand">openmto</span>
        <span className="who">
          {session.name || session.upn} · <span className="tenant">{session.tenant}</span>
        </span>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p.path === page.path ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main">
          <page.Component key={page.path} session={session} />
        </main>
      </div>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [error, setError] = useState<string | null>(null);
  const [finishing, setFinishing] = useState(() => new URLSearchParams(location.search).has('code') || new URLSearchParams(location.search).has('error'));
  useEffect(() => {
    authHooks.onUnauthenticated = () => {
      signOut();
      setSession(null);
      setError('Your sign-in has expired. Sign in again to continue.');
    };
    if (!finishing) {
      // A tab reopened after the access token expired signs in again silently with its refresh token.
      if (!currentSession()) void refreshSession().then((s) => s && setSession(s));
      return;
    }
    completeSignIn()
      .then((s) => s && setSession(s))
      .catch((e: Error) => setError(e.message))
      .finally(() => setFinishing(false));
  }, [finishing]);
  if (finishing) return <p role="status">Finishing sign-in…</p>;
  if (!session) return <SignIn error={error} />;
  return (
    <Shell
      session={session}
      onSignOut={() => {
        signOut();
        setSession(null);
        setError(null);
      }}
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

import { useEffect, useState } from 'react';
import { api, ApiError, type ConsoleConfig, storedKey, storeKey } from './api';
import { useRoute } from './hooks';
import { DeadLetters } from './pages/DeadLetters';
import { JobDetail } from './pages/JobDetail';
import { Jobs } from './pages/Jobs';
import { Replays } from './pages/Replays';
import { Reviews } from './pages/Reviews';
import { UsagePage } from './pages/Usage';
import { Workflows } from './pages/Workflows';

export type Navigate = (to: string) => void;

function SignIn({ onSignedIn }: { onSignedIn: (config: ConsoleConfig) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const config = await api<ConsoleConfig>('/v1/console/config', { key: key.trim() });
      storeKey(key.trim());
      onSignedIn(config);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This key is not valid.' : (err as Error).message);
    }
  };
  return (
    <form className="signin" onSubmit={submit}>
      <h1>Troupe</h1>
      <label htmlFor="api-key">API key</label>
      <input id="api-key" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} />
      <button type="submit" disabled={!key.trim()}>
        Sign in
      </button>
      {error && <p className="error" role="alert">{error}</p>}
      <p className="hint">The key stays in this tab only and is sent to this server's API as a Bearer token.</p>
    </form>
  );
}

const NAV = [
  ['/jobs', 'Jobs'],
  ['/reviews', 'Reviews'],
  ['/dead-letters', 'Dead letters'],
  ['/replays', 'Replays'],
  ['/workflows', 'Workflows'],
  ['/usage', 'Costs & latency'],
] as const;

export function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [checking, setChecking] = useState(!!storedKey());
  const [path, navigate] = useRoute();
  useEffect(() => {
    if (!storedKey()) return;
    api<ConsoleConfig>('/v1/console/config')
      .then(setConfig)
      .catch(() => storeKey(null))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return null;
  if (!config) return <SignIn onSignedIn={(c) => { setConfig(c); if (path === '/') navigate('/jobs'); }} />;
  const signOut = () => {
    storeKey(null);
    setConfig(undefined);
  };
  const [, section, id] = path.split('/');
  let page: React.ReactNode;
  if (section === 'jobs' && id) page = <JobDetail id={id} config={config} navigate={navigate} />;
  else if (section === 'reviews') page = <Reviews />;
  else if (section === 'dead-letters') page = <DeadLetters role={config.principal.role} />;
  else if (section === 'replays') page = <Replays id={id} role={config.principal.role} navigate={navigate} />;
  else if (section === 'workflows') page = <Workflows />;
  else if (section === 'usage') page = <UsagePage />;
  else page = <Jobs navigate={navigate} />;
  return (
    <div className="shell">
      <nav>
        <strong>Troupe</strong>
        {NAV.map(([to, label]) => (
          <a key={to} href={`/console${to}`} className={`/${section}` === to ? 'active' : ''} onClick={(e) => { e.preventDefault(); navigate(to); }}>
            {label}
          </a>
        ))}
        <span className="who">
          {config.principal.tenantId} · {config.principal.role}
        </span>
        <button onClick={signOut}>Sign out</button>
      </nav>
      <main>{page}</main>
    </div>
  );
}

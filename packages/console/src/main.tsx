import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, onAuthNeeded, setApiKey } from './api.js';
import { useHashPath } from './hooks.js';
import { AppsPage } from './pages/apps.js';
import { FnPage } from './pages/fn.js';
import { ServerPage } from './pages/server.js';
import { StreamsPage } from './pages/streams.js';
import { TriggersPage } from './pages/triggers.js';
import './style.css';

const NAV = [
  { href: '#/', label: 'Functions', match: (p: string) => p === '/' || p.startsWith('/fns/') },
  { href: '#/triggers', label: 'Triggers', match: (p: string) => p === '/triggers' },
  { href: '#/streams', label: 'Streams', match: (p: string) => p === '/streams' },
  { href: '#/server', label: 'Server', match: (p: string) => p === '/server' },
];

/** Asked for when the server answers 401/403: the key is kept for this tab only (sessionStorage). */
function KeyForm({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState('');
  return (
    <form class="keyform card" onSubmit={(e) => {
      e.preventDefault();
      setApiKey(key.trim());
      onDone();
    }}>
      <h2>API key</h2>
      <p>This server needs an API key with scope <code>admin</code>. It is kept in this tab only and sent to this server as
        an <code>Authorization</code> header.</p>
      <label>Key <input type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} autoFocus /></label>
      <button type="submit" disabled={key.trim() === ''}>Use key</button>
    </form>
  );
}

function Page({ path }: { path: string }) {
  const fn = /^\/fns\/([^/]+)$/.exec(path);
  if (fn?.[1]) return <FnPage fnId={fn[1]} />;
  switch (path) {
    case '/': return <AppsPage />;
    case '/triggers': return <TriggersPage />;
    case '/streams': return <StreamsPage />;
    case '/server': return <ServerPage />;
    default: return <p class="error" role="alert">No page at {path}. <a href="#/">Functions</a></p>;
  }
}

function Console() {
  const path = useHashPath();
  const [needKey, setNeedKey] = useState(false);
  // A new key remounts the page, so every poll starts again with it.
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onAuthNeeded(setNeedKey), []);
  useEffect(() => {
    document.title = `fnts · ${NAV.find((n) => n.match(path))?.label ?? 'console'}`;
  }, [path]);
  return (
    <>
      <header>
        <a class="brand" href="#/">fnts</a>
        <nav aria-label="Pages">
          {NAV.map((n) => <a key={n.href} href={n.href} aria-current={n.match(path) ? 'page' : undefined}>{n.label}</a>)}
        </nav>
        {apiKey() && <button class="link" type="button" onClick={() => {
          setApiKey(null);
          setEpoch(epoch + 1);
        }}>Forget key</button>}
      </header>
      <main>
        {needKey ? <KeyForm onDone={() => {
          setNeedKey(false);
          setEpoch(epoch + 1);
        }} /> : <Page key={`${epoch}:${path}`} path={path} />}
      </main>
    </>
  );
}

const root = document.getElementById('root');
if (root) render(<Console />, root);

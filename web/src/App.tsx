// Page frame: skip link, navigation, who the API sees, and the page for the current address.
import { useEffect, useRef } from 'react';
import { AuthBar } from './components/AuthBar';
import { Link, useLocation } from './lib/router';
import { BenchmarksPage } from './pages/Benchmarks';
import { LeaderboardPage } from './pages/Leaderboard';
import { RunsPage } from './pages/Runs';
import { RunPage } from './pages/Run';
import { ComparePage } from './pages/Compare';
import { CatalogPage } from './pages/Catalog';
import { DatasetPage } from './pages/Dataset';
import { StimulusSetPage } from './pages/StimulusSet';

function route(path: string) {
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/benchmarks') return { title: 'Benchmarks', page: <BenchmarksPage /> };
  if ((m = /^\/benchmarks\/([^/]+)$/.exec(path))) return { title: 'Leaderboard', page: <LeaderboardPage id={m[1]} /> };
  if (path === '/runs') return { title: 'Runs', page: <RunsPage /> };
  if ((m = /^\/runs\/compare\/([^/]+)$/.exec(path))) return { title: 'Compare runs', page: <ComparePage ids={decodeURIComponent(m[1]).split(',').filter(Boolean)} /> };
  if ((m = /^\/runs\/([^/]+)$/.exec(path))) return { title: 'Run', page: <RunPage id={m[1]} /> };
  if (path === '/catalog') return { title: 'Catalog', page: <CatalogPage /> };
  if ((m = /^\/catalog\/datasets\/([^/]+)$/.exec(path))) return { title: 'Dataset', page: <DatasetPage id={m[1]} /> };
  if ((m = /^\/catalog\/stimulus-sets\/([^/]+)$/.exec(path))) return { title: 'Stimulus set', page: <StimulusSetPage id={m[1]} /> };
  return { title: 'Not found', page: <p>No page at {path}.</p> };
}

const NAV = [
  { to: '/', label: 'Benchmarks', match: (p: string) => p === '/' || p.startsWith('/benchmarks') },
  { to: '/runs', label: 'Runs', match: (p: string) => p.startsWith('/runs') },
  { to: '/catalog', label: 'Catalog', match: (p: string) => p.startsWith('/catalog') },
];

export function App() {
  const { path } = useLocation();
  const { title, page } = route(path);
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    document.title = `${title} · BrainAlign`;
  }, [title]);
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">BrainAlign</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.match(path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <AuthBar />
      </header>
      <main id="main" ref={main} tabIndex={-1} key={path}>
        {page}
      </main>
    </>
  );
}

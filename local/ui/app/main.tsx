import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { isLive, onChange } from './api';
import { BackfillsPage } from './backfills';
import { OverviewPage } from './overview';
import { PipelinePage } from './pipeline';
import { RunPage } from './run';
import './style.css';

/** A page of the console, from the address's hash (`#/pipelines/orders`), so the token stays in the query. */
type Route =
  | { page: 'overview' }
  | { page: 'backfills' }
  | { page: 'pipeline'; name: string; from?: string; to?: string }
  | { page: 'run'; pipeline: string; runId: string };

function route(hash: string): Route {
  const [where = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = where.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'backfills') return { page: 'backfills' };
  if (parts[0] === 'pipelines' && parts[1] && parts[2] === 'runs' && parts[3]) return { page: 'run', pipeline: parts[1], runId: parts[3] };
  if (parts[0] === 'pipelines' && parts[1]) {
    return { page: 'pipeline', name: parts[1], from: params.get('from') ?? undefined, to: params.get('to') ?? undefined };
  }
  return { page: 'overview' };
}

function App() {
  const [current, setCurrent] = useState(() => route(location.hash));
  const [live, setLive] = useState(false);
  useEffect(() => {
    const update = () => setCurrent(route(location.hash));
    addEventListener('hashchange', update);
    const off = onChange(() => setLive(true));
    const check = setInterval(() => setLive(isLive()), 1000);
    return () => {
      removeEventListener('hashchange', update);
      off();
      clearInterval(check);
    };
  }, []);
  return (
    <>
      <header>
        <a href="#/" class="brand">
          sluice
        </a>
        <nav>
          <a href="#/">Overview</a>
          <a href="#/backfills">Backfills</a>
        </nav>
        <span class={`live ${live ? 'on' : 'off'}`} title="Updates arrive without reloading while this is on">
          {live ? 'live' : 'connecting…'}
        </span>
      </header>
      <main>
        {current.page === 'overview' && <OverviewPage />}
        {current.page === 'backfills' && <BackfillsPage />}
        {current.page === 'pipeline' && <PipelinePage key={current.name} name={current.name} from={current.from} to={current.to} />}
        {current.page === 'run' && <RunPage key={current.runId} pipeline={current.pipeline} runId={current.runId} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

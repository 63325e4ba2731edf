import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ENVIRONMENT } from './api.js';
import { DatasetsView, DatasetVersionView, DatasetVersionsView } from './views/datasets.js';
import { LineageView } from './views/lineage.js';
import { ModelsView, ModelView } from './views/models.js';
import { MonitoringView } from './views/monitoring.js';
import { CompareView, RunsView } from './views/runs.js';
import { VersionView } from './views/version.js';

/**
 * The console's entry: a hash router over the views. Every view reads the management API through
 * the local server's relay (api.ts); links are plain anchors, so each view is reachable by keyboard
 * and by URL.
 */

interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter((p) => p !== '').map(decodeURIComponent), query: new URLSearchParams(search) };
}

function View({ route }: { route: Route }) {
  const [section, a, b, c] = route.parts;
  switch (section) {
    case undefined:
    case 'models':
      if (a === undefined) return html`<${ModelsView} />`;
      if (b === 'versions' && c !== undefined) return html`<${VersionView} model=${a} version=${c} />`;
      return html`<${ModelView} model=${a} />`;
    case 'runs':
      return html`<${RunsView} query=${route.query} />`;
    case 'compare':
      return html`<${CompareView} query=${route.query} />`;
    case 'lineage':
      return a && b ? html`<${LineageView} model=${a} version=${b} />` : html`<p>Open a version's lineage from its page.</p>`;
    case 'datasets':
      if (a === undefined) return html`<${DatasetsView} />`;
      return b === undefined ? html`<${DatasetVersionsView} name=${a} />` : html`<${DatasetVersionView} name=${a} version=${b} />`;
    case 'monitoring':
      return a ? html`<${MonitoringView} model=${a} />` : html`<p>Open a model's monitoring from its page.</p>`;
    default:
      return html`<p role="alert">No view at ${location.hash}. <a href="#/">Models</a></p>`;
  }
}

const NAV = [
  ['Models', '#/models'],
  ['Runs', '#/runs'],
  ['Datasets', '#/datasets'],
] as const;

function App() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseHash(location.hash));
      // A new view: move focus to its heading, as a page load would, for keyboard and screen reader users.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('main')?.focus());
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  const current = route.parts[0] ?? 'models';
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); document.querySelector<HTMLElement>('main')?.focus(); }}>Skip to content</a>
    <header>
      <span class="brand">mlops console</span>
      <nav aria-label="Main">
        <ul>${NAV.map(([label, href]) => html`<li><a href=${href} aria-current=${href.slice(2) === current ? 'page' : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <span class="env" title="environment">env: <strong>${ENVIRONMENT()}</strong></span>
    </header>
    <main id="main" tabindex="-1"><${View} route=${route} /></main>`;
}

render(html`<${App} />`, document.getElementById('app')!);

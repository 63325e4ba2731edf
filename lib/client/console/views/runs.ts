import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, type Comparison, type RunRecord } from '../api.js';
import { runMetricsSpec } from '../charts.js';
import { Chart, Loaded, Status, link, num, time, useLoad } from '../ui.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'];

/** Runs of a model, filtered by status and start time (the API's filters); pick two or more to compare. */
export function RunsView({ query }: { query: URLSearchParams }) {
  const [models] = useLoad(() => api.models(), 'models');
  const model = query.get('model') ?? (models.state === 'done' ? models.data[0]?.name : undefined);
  const filter = { status: query.get('status') ?? '', since: query.get('since') ?? '', limit: Number(query.get('limit') ?? 50) };
  const [runs] = useLoad(async () => (model ? api.runs({ model, ...(filter.status ? { status: filter.status } : {}), ...(filter.since ? { since: new Date(filter.since).toISOString() } : {}), limit: filter.limit }) : []), `runs:${model}:${query}`);
  const [picked, setPicked] = useState<string[]>([]);
  // The form's fields as the user edits them (a re-render while the runs load must not undo a choice).
  const [draft, setDraft] = useState<Record<string, string>>({});
  const field = (name: string, shown: string | number | undefined) => ({
    value: draft[name] ?? String(shown ?? ''),
    onInput: (e: Event) => setDraft((d) => ({ ...d, [name]: (e.target as HTMLInputElement | HTMLSelectElement).value })),
  });
  const apply = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const values = { model, status: filter.status, since: filter.since, limit: String(filter.limit), ...draft };
    for (const [key, value] of Object.entries(values)) if (value) next.set(key, value);
    setDraft({});
    setPicked([]);
    location.hash = `#/runs?${next}`;
  };
  const toggle = (runId: string) => setPicked((p) => (p.includes(runId) ? p.filter((r) => r !== runId) : [...p, runId]));
  return html`<section aria-labelledby="runs-title">
    <h1 id="runs-title">Runs</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter runs">
      <span><label for="filter-model">Model</label><select id="filter-model" ...${field('model', model)}>${models.state === 'done' ? models.data.map((m) => html`<option value=${m.name}>${m.name}</option>`) : null}</select></span>
      <span><label for="filter-status">Status</label><select id="filter-status" ...${field('status', filter.status)}><option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select></span>
      <span><label for="filter-since">Started since</label><input id="filter-since" type="date" ...${field('since', filter.since)} /></span>
      <span><label for="filter-limit">Limit</label><input id="filter-limit" type="number" min="1" max="1000" ...${field('limit', filter.limit)} /></span>
      <button type="submit">Apply</button>
    </form>
    <${Loaded}
      load=${runs}
      render=${(list: RunRecord[]) => html`
        <p>
          <button type="button" class="primary" disabled=${picked.length < 2} onClick=${() => (location.hash = `#/compare?runs=${picked.map(encodeURIComponent).join(',')}`)}>
            Compare ${picked.length} selected run(s)
          </button>
          ${picked.length < 2 ? html` <small class="muted">select two to ten runs</small>` : null}
        </p>
        <table data-testid="runs">
          <caption class="sr-only">Runs of ${model ?? ''}, newest first</caption>
          <thead><tr><th scope="col">Compare</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Dataset</th><th scope="col">Version</th><th scope="col">Metrics</th><th scope="col">Started</th></tr></thead>
          <tbody>
            ${list.map(
              (run) => html`<tr data-run=${run.runId}>
                <td><input type="checkbox" aria-label=${`select run ${run.runId}`} checked=${picked.includes(run.runId)} onChange=${() => toggle(run.runId)} /></td>
                <th scope="row"><code>${run.runId}</code></th>
                <td><${Status} value=${run.status} /></td>
                <td>${run.trigger}</td>
                <td><a href=${link('datasets', run.dataset.name, run.dataset.version)}>${run.dataset.name}@${run.dataset.version.slice(0, 12)}</a></td>
                <td>${run.modelVersion ? html`<a href=${link('models', run.model, 'versions', run.modelVersion)}>v${run.modelVersion}</a>` : '–'}</td>
                <td>${Object.entries(run.metrics ?? {}).slice(0, 3).map(([k, v]) => html`<small>${k} ${num(v)}</small> `)}</td>
                <td>${time(run.startedAt)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
    />
  </section>`;
}

/** Rows of a comparison, whatever its shape: two runs (a, b) or more (values). */
function rows(comparison: Comparison, key: 'lineage' | 'parameters' | 'metrics'): { name: string; values: unknown[]; differs: boolean }[] {
  return (comparison[key] as { name: string; a?: unknown; b?: unknown; values?: unknown[]; differs: boolean }[]).map((row) => ({ name: row.name, values: row.values ?? [row.a, row.b], differs: row.differs }));
}

function CompareTable({ title, runs, list }: { title: string; runs: string[]; list: { name: string; values: unknown[]; differs: boolean }[] }) {
  return html`<table data-testid=${`compare-${title.toLowerCase()}`}>
    <caption>${title} (<span class="differs-key">≠</span> marks a difference)</caption>
    <thead><tr><th scope="col">Name</th>${runs.map((r) => html`<th scope="col"><code>${r}</code></th>`)}</tr></thead>
    <tbody>
      ${list.map(
        (row) => html`<tr class=${row.differs ? 'differs' : ''} data-differs=${String(row.differs)}>
          <th scope="row">${row.differs ? html`<span aria-label="differs">≠ </span>` : null}${row.name}</th>
          ${row.values.map((v) => html`<td>${typeof v === 'object' && v !== null ? JSON.stringify(v) : num(v)}</td>`)}
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Two to ten runs side by side: parameters and lineage with the differences marked, metrics as charts. */
export function CompareView({ query }: { query: URLSearchParams }) {
  const runIds = (query.get('runs') ?? '').split(',').filter((r) => r !== '');
  const [load] = useLoad(async () => (runIds.length >= 2 ? api.compare(runIds) : undefined), `compare:${runIds.join(',')}`);
  const [single] = useLoad(async () => (runIds.length === 1 ? api.run(runIds[0]!) : undefined), `run:${runIds.join(',')}`);
  if (runIds.length === 1) {
    return html`<section aria-labelledby="run-title"><h1 id="run-title">Run <code>${runIds[0]}</code></h1>
      <${Loaded} load=${single} render=${(detail: Awaited<ReturnType<typeof api.run>> | undefined) =>
        detail?.run
          ? html`<p><${Status} value=${detail.run.status} /> ${detail.run.trigger} by ${detail.run.actor}, ${time(detail.run.startedAt)}; dataset <a href=${link('datasets', detail.run.dataset.name, detail.run.dataset.version)}>${detail.run.dataset.name}</a>${detail.run.modelVersion ? html`; version <a href=${link('models', detail.run.model, 'versions', detail.run.modelVersion)}>v${detail.run.modelVersion}</a>` : null}</p>
              <p>Steps: ${detail.execution.steps.join(' → ')}</p>
              <p><a href=${`#/runs?model=${encodeURIComponent(detail.run.model)}`}>Pick another run to compare with</a></p>`
          : html`<p>The run has no record yet (${detail?.execution.status}).</p>`} />
    </section>`;
  }
  return html`<section aria-labelledby="compare-title">
    <h1 id="compare-title">Compare ${runIds.length} runs</h1>
    <${Loaded}
      load=${load}
      render=${(comparison: Comparison | undefined) => {
        if (!comparison) return html`<p>Pick two to ten runs on the <a href="#/runs">Runs</a> page.</p>`;
        const metrics = rows(comparison, 'metrics');
        return html`
          <h2>Metrics</h2>
          <${Chart} spec=${runMetricsSpec(metrics, comparison.runs)} label=${`Metrics of runs ${comparison.runs.join(', ')}`} testId="compare-chart" />
          <${CompareTable} title="Metrics" runs=${comparison.runs} list=${metrics} />
          <h2>Parameters</h2>
          <${CompareTable} title="Parameters" runs=${comparison.runs} list=${rows(comparison, 'parameters')} />
          <h2>Lineage</h2>
          <${CompareTable} title="Lineage" runs=${comparison.runs} list=${rows(comparison, 'lineage')} />`;
      }}
    />
  </section>`;
}

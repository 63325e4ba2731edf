import { html } from 'htm/preact';
import type { DatasetLineage, VersionLineage } from '../../../../lambdas/core/registry/records.js';
import { api } from '../api.js';
import { Loaded, Status, link, time, useLoad } from '../ui.js';

/** One node of the lineage graph: a link to its own view. */
function Node({ kind, href, title, detail }: { kind: string; href: string; title: string; detail?: unknown }) {
  return html`<li class=${`node node-${kind}`} data-node=${kind}>
    <span class="kind">${kind}</span>
    <a href=${href}>${title}</a>
    ${detail ? html`<small>${detail}</small>` : null}
  </li>`;
}

/** A version's lineage as a graph: dataset -> run -> version -> aliases; every node links to its view, the dataset's back to the versions trained on it. */
export function LineageView({ model, version }: { model: string; version: string }) {
  const [load] = useLoad(() => api.versionLineage(model, version), `lineage:${model}:${version}`);
  return html`<section aria-labelledby="lineage-title">
    <h1 id="lineage-title">Lineage of ${model} v${version}</h1>
    <${Loaded}
      load=${load}
      render=${(lineage: VersionLineage) => {
        const run = lineage.run as { runId?: string; trigger?: string; actor?: string; algorithm?: string; startedAt?: string } | null;
        return html`
          <ol class="graph" aria-label="dataset, run, version, aliases">
            <${Node} kind="dataset" href=${link('datasets', lineage.dataset.name, lineage.dataset.version)} title=${`${lineage.dataset.name}@${lineage.dataset.version.slice(0, 12)}`} detail=${lineage.dataset.rowCount === undefined ? '' : `${lineage.dataset.rowCount} rows`} />
            ${run?.runId ? html`<${Node} kind="run" href=${`#/compare?runs=${encodeURIComponent(run.runId)}`} title=${run.runId} detail=${`${run.algorithm ?? ''} ${run.trigger ?? ''} by ${run.actor ?? ''}`} />` : html`<li class="node node-run"><span class="kind">run</span> (record gone)</li>`}
            <${Node} kind="version" href=${link('models', lineage.model, 'versions', lineage.version)} title=${`${lineage.model} v${lineage.version}`} detail=${lineage.status} />
            <li class="node node-aliases" data-node="aliases">
              <span class="kind">aliases</span>
              ${lineage.aliases.length === 0 ? html`<small>none now</small>` : html`<ul>${lineage.aliases.map((a) => html`<li><a href=${link('models', lineage.model)}>${a.alias}</a> <small>${Math.round(a.weight * 100)}% since ${time(a.since)}</small></li>`)}</ul>`}
            </li>
          </ol>
          <h2>Alias moves of this version</h2>
          <table>
            <caption class="sr-only">Alias moves to or from v${lineage.version}</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Alias</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Actor</th><th scope="col">Reason</th></tr></thead>
            <tbody>${lineage.moves.map((m) => html`<tr><td>${time(m.at)}</td><td>${m.alias}</td><td>${m.from ?? '–'}</td><td>${m.to ?? '–'}</td><td>${m.actor}</td><td>${m.reason}</td></tr>`)}</tbody>
          </table>`;
      }}
    />
  </section>`;
}

/** The versions trained on a dataset version: the way back from a dataset to the traffic it serves. */
export function DatasetLineageList({ lineage }: { lineage: DatasetLineage }) {
  if (lineage.models.length === 0) return html`<p class="muted">No model version was trained on this dataset version.</p>`;
  return html`<ul class="trained" data-testid="dataset-lineage">
    ${lineage.models.map(
      (m) => html`<li>
        <a href=${link('lineage', m.model, m.version)}>${m.model} v${m.version}</a> <${Status} value=${m.status} />
        ${m.aliases.map((a) => html` <span class="alias">${a}</span>`)} <small>run <a href=${`#/compare?runs=${encodeURIComponent(m.runId)}`}>${m.runId}</a></small>
      </li>`,
    )}
  </ul>`;
}

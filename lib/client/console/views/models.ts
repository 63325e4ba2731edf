import { html } from 'htm/preact';
import type { ModelDetail } from '../../../../lambdas/contract/registry.js';
import type { ModelSummary } from '../../../../lambdas/core/registry/records.js';
import { api, type AuditEvent, type RunRecord } from '../api.js';
import { aliasMoves, aliasTimelineSpec } from '../charts.js';
import { Chart, ConfirmAction, Loaded, Status, link, num, time, useLoad, type ActionSpec } from '../ui.js';

/** Models: each model's aliases with their traffic weights, its latest version and its last run's status. */
export function ModelsView() {
  const [load] = useLoad(async (): Promise<ModelRow[]> => {
    const models = await api.models();
    // Weights and the last run are per model: two reads each, side by side.
    return Promise.all(
      models.map(async (summary) => {
        const [detail, runs] = await Promise.all([api.model(summary.name), api.runs({ model: summary.name, limit: 1 }).catch(() => [])]);
        return { summary, detail, lastRun: runs[0] };
      }),
    );
  }, 'models');
  return html`<section aria-labelledby="models-title">
    <h1 id="models-title">Models</h1>
    <${Loaded}
      load=${load}
      render=${(rows: ModelRow[]) =>
        rows.length === 0
          ? html`<p>No models yet: create one with <code>mlops models create</code>.</p>`
          : html`<table>
              <caption class="sr-only">Models with their aliases and last run</caption>
              <thead><tr><th scope="col">Model</th><th scope="col">Task</th><th scope="col">Aliases (traffic)</th><th scope="col">Latest version</th><th scope="col">Last run</th></tr></thead>
              <tbody>
                ${rows.map(
                  ({ summary, detail, lastRun }) => html`<tr data-model=${summary.name}>
                    <th scope="row"><a href=${link('models', summary.name)}>${summary.name}</a></th>
                    <td>${summary.task}</td>
                    <td>${detail.aliases.length === 0 ? html`<span class="muted">none</span>` : detail.aliases.map((a) => html`<span class="alias" data-alias=${a.alias}><a href=${link('models', summary.name, 'versions', a.version)}>${a.alias}: v${a.version}</a> <small>${Math.round(a.weight * 100)}%</small></span> `)}</td>
                    <td>${summary.latestVersion > 0 ? html`<a href=${link('models', summary.name, 'versions', summary.latestVersion)}>v${summary.latestVersion}</a>` : '–'}</td>
                    <td>${lastRun ? html`<${Status} value=${lastRun.status} /> <small>${time(lastRun.startedAt)}</small>` : html`<span class="muted">no runs</span>`}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
    />
  </section>`;
}
interface ModelRow {
  summary: ModelSummary;
  detail: ModelDetail;
  lastRun?: RunRecord;
}

/** The actions on a version, each through the API route the CLI uses. */
export function versionActions(detail: ModelDetail, version: number): ActionSpec[] {
  const model = detail.name;
  const entry = detail.versions.find((v) => v.version === version);
  const actions: ActionSpec[] = [];
  if (entry?.status === 'PENDING_APPROVAL') {
    actions.push({ label: `Approve v${version}`, title: `Approve version ${version} of ${model}`, detail: 'Its waiting release resumes and moves production.', run: (reason) => api.approve(model, version, reason) });
    actions.push({ label: `Reject v${version}`, title: `Reject version ${version} of ${model}`, detail: 'Its release stops; a rejected version never serves.', danger: true, run: (reason) => api.reject(model, version, reason) });
  }
  if (entry && entry.status !== 'REJECTED') {
    actions.push({
      label: `Promote v${version}`,
      title: `Promote version ${version} of ${model} to an alias`,
      detail: 'Production goes through the release path (gate, and approval where required); other aliases move at once.',
      initial: { alias: 'production' },
      fields: (values, set, id) => html`<label for=${`${id}-alias`}>Alias</label>
        <select id=${`${id}-alias`} value=${values.alias} onChange=${(e: Event) => set('alias', (e.target as HTMLSelectElement).value)}>
          ${['production', 'candidate', 'canary', 'shadow'].map((alias) => html`<option value=${alias}>${alias}</option>`)}
        </select>`,
      run: (reason, values) => api.promote(model, version, values.alias ?? 'production', reason),
    });
  }
  return actions;
}

/** A model: aliases, versions, the alias history and the audit log; actions on each version. */
export function ModelView({ model }: { model: string }) {
  const [load, reload] = useLoad(async () => {
    const [detail, events] = await Promise.all([api.model(model), api.audit(model)]);
    return { detail, events };
  }, `model:${model}`);
  return html`<section aria-labelledby="model-title">
    <h1 id="model-title">Model ${model}</h1>
    <p><a href=${`#/runs?model=${encodeURIComponent(model)}`}>Runs</a> · <a href=${link('monitoring', model)}>Monitoring</a></p>
    <${Loaded}
      load=${load}
      render=${({ detail, events }: { detail: ModelDetail; events: AuditEvent[] }) => {
        const production = detail.aliases.find((a) => a.alias === 'production');
        const moves = aliasMoves(events);
        const keyMetrics = [...new Set(detail.versions.flatMap((v) => Object.keys(v.metrics)))].filter((name) => !/^(predictionStd|rows)$/.test(name)).slice(0, 4);
        return html`
          <h2>Aliases</h2>
          ${detail.aliases.length === 0 ? html`<p class="muted">No alias points at a version.</p>` : null}
          <ul class="aliases">
            ${detail.aliases.map((a) => html`<li data-alias=${a.alias}><a href=${link('models', model, 'versions', a.version)}><strong>${a.alias}</strong>: v${a.version}</a> (${Math.round(a.weight * 100)}% traffic) <small>since ${time(a.updatedAt)} by ${a.updatedBy}</small></li>`)}
          </ul>
          ${production
            ? html`<${ConfirmAction}
                action=${{ label: 'Roll back production', title: `Roll back production of ${model}`, detail: `Production (v${production.version}) goes back to the previous version in one step.`, danger: true, run: (reason: string) => api.rollback(model, reason) }}
                onDone=${reload}
              />`
            : null}
          <h2>Versions</h2>
          <table data-testid="versions">
            <caption class="sr-only">Versions of ${model}</caption>
            <thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Approval</th>${keyMetrics.map((name) => html`<th scope="col">${name}</th>`)}<th scope="col">Judged against</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              ${[...detail.versions].reverse().map(
                (v) => html`<tr data-version=${v.version}>
                  <th scope="row"><a href=${link('models', model, 'versions', v.version)}>v${v.version}</a></th>
                  <td><${Status} value=${v.status} /></td>
                  <td>${v.approval ? html`${v.approval.state}${v.approval.decidedBy ? html` <small>by ${v.approval.decidedBy}</small>` : null}` : '–'}</td>
                  ${keyMetrics.map((name) => html`<td class="num">${num(v.metrics[name])}</td>`)}
                  <td>${v.judgedAgainst ? html`<a href=${link('models', model, 'versions', v.judgedAgainst)}>v${v.judgedAgainst}</a>` : '–'}</td>
                  <td>${time(v.createdAt)}</td>
                  <td class="actions">${versionActions(detail, v.version).map((action) => html`<${ConfirmAction} action=${action} onDone=${reload} />`)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <h2>Alias history</h2>
          ${moves.length === 0 ? html`<p class="muted">No alias has moved yet.</p>` : html`<${Chart} spec=${aliasTimelineSpec(moves)} label=${`Alias moves of ${model} over time`} testId="alias-timeline" />`}
          <h2>Audit log</h2>
          <table data-testid="audit">
            <caption class="sr-only">Audit log of ${model}, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Version</th><th scope="col">Reason</th></tr></thead>
            <tbody>
              ${[...events].reverse().map((e) => html`<tr data-action=${e.action}><td>${time(e.at)}</td><td class="actor">${e.actor}</td><td>${e.action}</td><td>${e.version ? `v${e.version}` : '–'}</td><td>${e.reason}</td></tr>`)}
            </tbody>
          </table>`;
      }}
    />
  </section>`;
}

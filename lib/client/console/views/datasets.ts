import { html } from 'htm/preact';
import type { DatasetSummary, DatasetVersion } from '../../../../lambdas/core/data/dataset-version.js';
import type { DatasetProfile } from '../../../../lambdas/core/data/profile.js';
import type { DatasetLineage } from '../../../../lambdas/core/registry/records.js';
import { api, type ReportAnswer } from '../api.js';
import { columnSpec } from '../charts.js';
import { Chart, Loaded, Status, link, num, time, useLoad } from '../ui.js';
import { DatasetLineageList } from './lineage.js';

export function DatasetsView() {
  const [load] = useLoad(() => api.datasets(), 'datasets');
  return html`<section aria-labelledby="datasets-title">
    <h1 id="datasets-title">Datasets</h1>
    <${Loaded}
      load=${load}
      render=${(list: DatasetSummary[]) => html`<table>
        <caption class="sr-only">Datasets</caption>
        <thead><tr><th scope="col">Dataset</th><th scope="col">Versions</th><th scope="col">Latest</th><th scope="col">Arrived</th></tr></thead>
        <tbody>${list.map((d) => html`<tr><th scope="row"><a href=${link('datasets', d.name)}>${d.name}</a></th><td>${d.versionCount}</td><td><a href=${link('datasets', d.name, d.latestVersion)}><code>${d.latestVersion.slice(0, 12)}</code></a></td><td>${time(d.latestArrivedAt)}</td></tr>`)}</tbody>
      </table>`}
    />
  </section>`;
}

export function DatasetVersionsView({ name }: { name: string }) {
  const [load] = useLoad(() => api.datasetVersions(name), `dataset:${name}`);
  return html`<section aria-labelledby="dataset-title">
    <h1 id="dataset-title">Dataset ${name}</h1>
    <${Loaded}
      load=${load}
      render=${(versions: DatasetVersion[]) => html`<table>
        <caption class="sr-only">Versions of ${name}, newest first</caption>
        <thead><tr><th scope="col">Version (sha256)</th><th scope="col">Rows</th><th scope="col">Format</th><th scope="col">Owner</th><th scope="col">Arrived</th><th scope="col">Quarantine</th></tr></thead>
        <tbody>${versions.map((v) => html`<tr><th scope="row"><a href=${link('datasets', name, v.version)}><code>${v.version.slice(0, 16)}</code></a></th><td class="num">${v.rowCount}</td><td>${v.format}</td><td>${v.owner}</td><td>${time(v.arrivedAt)}</td><td>${v.quarantined ? html`<${Status} value="QUARANTINED" />` : '–'}</td></tr>`)}</tbody>
      </table>`}
    />
  </section>`;
}

interface DatasetPage {
  version: DatasetVersion;
  profile: DatasetProfile;
  lineage: DatasetLineage;
  validations: { runId: string; model: string; report: ReportAnswer | Error }[];
}

/** A dataset version: schema, profile with a chart per column, the validation reports of the runs that used it, and the versions trained on it. */
export function DatasetVersionView({ name, version }: { name: string; version: string }) {
  const [load] = useLoad(async (): Promise<DatasetPage> => {
    const [found, profile, lineage] = await Promise.all([api.dataset(name, version), api.profile(name, version), api.datasetLineage(name, version)]);
    // Validation reports belong to runs: the ones that trained the listed versions (a few).
    const validations = await Promise.all(
      lineage.models.slice(0, 5).map(async (m) => ({ runId: m.runId, model: m.model, report: await api.runReport(m.runId, 'validation').catch((error: Error) => error) })),
    );
    return { version: found, profile, lineage, validations };
  }, `dataset:${name}:${version}`);
  return html`<section aria-labelledby="dsv-title">
    <h1 id="dsv-title">Dataset ${name}</h1>
    <${Loaded}
      load=${load}
      render=${({ version: v, profile, lineage, validations }: DatasetPage) => html`
        <p><code>${v.version}</code> · ${v.rowCount} rows · ${v.format} · ${v.bytes} bytes · owner ${v.owner} · source ${v.source} · arrived ${time(v.arrivedAt)}</p>
        ${v.quarantined ? html`<p class="warning">Quarantined: ${v.quarantineReason}</p>` : null}
        <h2>Trained on this version</h2>
        <${DatasetLineageList} lineage=${lineage} />
        <h2>Profile</h2>
        <p>${profile.rows} rows, ${profile.duplicateRows} duplicate rows${profile.target ? html`; target <strong>${profile.target.column}</strong>` : null}</p>
        <div class="columns">
          ${profile.columns.map((column) => {
            const spec = columnSpec(column);
            return html`<article class="column" aria-labelledby=${`col-${column.name}`}>
              <h3 id=${`col-${column.name}`}>${column.name} <small>${column.type}</small></h3>
              <p><small>${column.count} values, ${column.missing} missing${column.numeric ? html`; mean ${num(column.numeric.mean)}, std ${num(column.numeric.std)}, min ${num(column.numeric.min)}, max ${num(column.numeric.max)}` : null}</small></p>
              ${spec ? html`<${Chart} spec=${spec} label=${`Distribution of ${column.name}`} />` : null}
            </article>`;
          })}
        </div>
        <h2>Validation reports</h2>
        ${validations.length === 0 ? html`<p class="muted">No run has validated this version yet.</p>` : null}
        ${validations.map(({ runId, model, report }) =>
          report instanceof Error
            ? html`<p>${model}, run ${runId}: <span class="muted">${report.message}</span></p>`
            : html`<details>
                <summary>${model}, run <code>${runId}</code>: <${Status} value=${'passed' in report.report && report.report.passed ? 'PASSED' : 'FAILED'} /> ${report.report.summary}</summary>
                <table>
                  <caption class="sr-only">Checks of the validation of run ${runId}</caption>
                  <thead><tr><th scope="col">Check</th><th scope="col">Column</th><th scope="col">Severity</th><th scope="col">Passed</th><th scope="col">Detail</th></tr></thead>
                  <tbody>${(report.report.checks as { name: string; column?: string; severity?: string; passed: boolean; detail: string }[]).map((c) => html`<tr><th scope="row">${c.name}</th><td>${c.column ?? ''}</td><td>${c.severity ?? ''}</td><td>${c.passed ? 'yes' : 'no'}</td><td>${c.detail}</td></tr>`)}</tbody>
                </table>
              </details>`,
        )}`}
    />
  </section>`;
}

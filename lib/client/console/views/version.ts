import { html } from 'htm/preact';
import type { GateReportAnswer, ModelDetail } from '../../../../lambdas/contract/registry.js';
import type { ModelVersion } from '../../../../lambdas/core/registry/records.js';
import { api } from '../api.js';
import { gateIntervals, gateIntervalSpec } from '../charts.js';
import { Chart, ConfirmAction, Loaded, Status, link, num, time, useLoad } from '../ui.js';
import { versionActions } from './models.js';

/** A version: its record and its gate report, each compared metric's interval against the tolerance. */
export function VersionView({ model, version }: { model: string; version: string }) {
  const [load, reload] = useLoad(async (): Promise<VersionPage> => {
    const detail = await api.model(model);
    const number = /^\d+$/.test(version) ? Number(version) : detail.aliases.find((a) => a.alias === version)?.version;
    const entry = detail.versions.find((v) => v.version === number);
    if (!entry) throw new Error(`${model} has no version ${version}`);
    const gate = await api.gateReport(model, entry.version);
    return { detail, entry, gate };
  }, `version:${model}:${version}`);
  return html`<section aria-labelledby="version-title">
    <${Loaded}
      load=${load}
      render=${({ detail, entry, gate }: VersionPage) => {
        const intervals = gateIntervals(gate.report);
        const aliases = detail.aliases.filter((a) => a.version === entry.version).map((a) => a.alias);
        return html`
          <h1 id="version-title">${model} v${entry.version} ${aliases.map((a) => html`<span class="alias">${a}</span> `)}</h1>
          <p>
            <${Status} value=${entry.status} />${` · created ${time(entry.createdAt)} by ${entry.createdBy} · `}<a href=${link('lineage', model, entry.version)}>Lineage</a>${' · run '}<a href=${`#/compare?runs=${encodeURIComponent(entry.runId)}`}>${entry.runId}</a>${' · '}${entry.judgedAgainst ? html`judged against <a href=${link('models', model, 'versions', entry.judgedAgainst)}>v${entry.judgedAgainst}</a>` : 'judged without a production version'}
          </p>
          <div class="actions">${versionActions(detail, entry.version).map((action) => html`<${ConfirmAction} action=${action} onDone=${reload} />`)}</div>
          <h2>Metrics</h2>
          <dl class="metrics">${Object.entries(entry.metrics).map(([name, value]) => html`<div><dt>${name}</dt><dd>${num(value)}</dd></div>`)}</dl>
          <h2 id="gate-title">Gate report</h2>
          <p data-testid="gate-summary"><${Status} value=${gate.report.passed ? 'PASSED' : 'FAILED'} /> ${gate.report.summary}</p>
          ${gate.report.insufficient > 0 ? html`<p class="warning">${gate.report.insufficient} check(s) had too little evidence for a verdict (insufficient).</p>` : null}
          ${intervals.length > 0
            ? html`<${Chart} spec=${gateIntervalSpec(intervals)} label=${`Gate intervals of ${model} v${entry.version} against production v${gate.report.champion?.version ?? ''}: candidate minus production, with the tolerance`} testId="gate-chart" />`
            : html`<p class="muted" data-testid="gate-no-intervals">No metric was compared with a production version (there was none when this version was judged): only the absolute checks apply.</p>`}
          <table data-testid="gate-checks">
            <caption>Every check of the gate</caption>
            <thead><tr><th scope="col">Check</th><th scope="col">Segment</th><th scope="col">Verdict</th><th scope="col">Value</th><th scope="col">Interval</th><th scope="col">Tolerance</th><th scope="col">Threshold</th><th scope="col">Detail</th></tr></thead>
            <tbody>
              ${gate.report.checks.map(
                (c) => html`<tr data-status=${c.status} data-interval=${String(typeof c.interval?.[0] === 'number' && typeof c.interval?.[1] === 'number')}>
                  <th scope="row">${c.name}</th>
                  <td>${c.segment ? `${c.segment.column}=${c.segment.value}` : 'overall'}</td>
                  <td><${Status} value=${c.status} /></td>
                  <td class="num">${num(c.value)}</td>
                  <td class="num">${c.interval ? `[${c.interval.map(num).join(', ')}]` : '–'}</td>
                  <td class="num">${c.tolerance === undefined || c.tolerance === null ? '–' : `-${num(c.tolerance)}`}</td>
                  <td>${c.threshold}</td>
                  <td>${c.detail}</td>
                </tr>`,
              )}
            </tbody>
          </table>`;
      }}
    />
  </section>`;
}
interface VersionPage {
  detail: ModelDetail;
  entry: ModelVersion;
  gate: GateReportAnswer;
}

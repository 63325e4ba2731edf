import { html } from 'htm/preact';
import type { RolloutStatus } from '../../../../lambdas/contract/registry.js';
import type { DriftCheckRecord } from '../../../../lambdas/contract/drift.js';
import { api, ApiError } from '../api.js';
import { driftOverTimeSpec, metricOverTimeSpec, metricPoints, type DriftPoint } from '../charts.js';
import { Chart, Loaded, Status, link, num, time, useLoad } from '../ui.js';

/** Charts read the reports of the latest checks: a few, each a read. */
const CHECKS_CHARTED = 10;

/** The chart's interval, beside its number in the table. */
const interval = (bounds: [number, number] | null | undefined) => (bounds ? html` <small>[${num(bounds[0])}, ${num(bounds[1])}]</small>` : null);

interface MonitoringPage {
  checks: DriftCheckRecord[];
  points: DriftPoint[];
  /** The live or estimated metric over the checks (none before performance windows). */
  series: ReturnType<typeof metricPoints>;
  rollout: RolloutStatus | null;
}

/** A model's drift checks (per feature over time, performance once labels arrive) and its rollout's steps and decisions. */
export function MonitoringView({ model }: { model: string }) {
  const [load] = useLoad(async (): Promise<MonitoringPage> => {
    const [{ checks }, rollout] = await Promise.all([
      api.driftChecks(model),
      // No rollout yet is a 404, not an error of the page.
      api.rollout(model).catch((error: Error) => (error instanceof ApiError && error.status === 404 ? null : Promise.reject(error))),
    ]);
    const details = await Promise.all(checks.slice(0, CHECKS_CHARTED).map((check) => api.driftCheck(model, check.checkId)));
    const points = details.flatMap(({ check, report }) =>
      ((report.features ?? []) as { column: string; statistic: number | null; threshold: number; drifted: boolean | null }[]).map((f) => ({
        checkedAt: check.checkedAt,
        feature: f.column,
        score: f.statistic,
        threshold: f.threshold,
        drifted: f.drifted,
      })),
    );
    return { checks, points, series: metricPoints(checks), rollout };
  }, `monitoring:${model}`);
  return html`<section aria-labelledby="monitoring-title">
    <h1 id="monitoring-title">Monitoring of <a href=${link('models', model)}>${model}</a></h1>
    <${Loaded}
      load=${load}
      render=${({ checks, points, series, rollout }: MonitoringPage) => html`
        <h2>Drift per feature over time</h2>
        ${points.length === 0 ? html`<p class="muted">No drift check yet: run <code>mlops drift check ${model}</code> or set a schedule.</p>` : html`<${Chart} spec=${driftOverTimeSpec(points)} label=${`Drift score per feature of ${model} over the last ${Math.min(checks.length, CHECKS_CHARTED)} checks`} testId="drift-chart" />`}
        <h2>Performance over time</h2>
        ${!series || series.points.length === 0
          ? html`<p class="muted" data-testid="metric-none">No realized or estimated metric yet: ${series ? `labels are awaited (${series.metric})` : 'no check with a performance window'}.</p>`
          : html`<${Chart} spec=${metricOverTimeSpec(series.metric, series.points, { baseline: series.baseline })} label=${`${series.metric} of ${model} over the last ${series.points.length} check(s): realized where judged, estimated while labels are awaited, with intervals; the dashed rule is the held-out value${series.baseline === null ? ' (none recorded)' : ` ${num(series.baseline)}`}`} testId="metric-chart" />`}
        <table data-testid="drift-checks">
          <caption class="sr-only">Drift checks, newest first</caption>
          <thead><tr><th scope="col">Checked</th><th scope="col">Version</th><th scope="col">Arm</th><th scope="col">Verdict</th><th scope="col">Drifted features</th><th scope="col">Rows</th><th scope="col">Performance</th><th scope="col">Trigger</th></tr></thead>
          <tbody>
            ${checks.map(
              (c) => html`<tr>
                <td>${time(c.checkedAt)}</td><td>v${c.version}</td><td>${c.arm}</td><td><${Status} value=${c.status} /></td>
                <td>${c.driftedFeatures.join(', ') || '–'}</td><td class="num">${c.rows}</td>
                <td>${c.performance ? html`${c.performance.metric} ${c.performance.status === 'judged' ? html`${num(c.performance.value)}${interval(c.performance.interval)}` : c.performance.estimated !== null ? html`≈${num(c.performance.estimated)}${interval(c.performance.estimatedInterval)} <small>(estimated)</small>` : c.performance.status} <small>vs ${num(c.performance.baseline)}, ${Math.round(c.performance.coverage * 100)}% labelled</small>` : '–'}</td>
                <td>${c.trigger}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <h2>Rollout</h2>
        ${rollout
          ? html`<p data-testid="rollout">v${rollout.rollout.version} against production v${rollout.rollout.production} · <${Status} value=${rollout.rollout.state} />${` · phase ${rollout.rollout.phase}, canary at ${Math.round(rollout.rollout.weight * 100)}% · ${rollout.stepsDone} of ${rollout.rollout.policy.steps.length} step(s) done${rollout.execution ? ` · execution ${rollout.execution.status}` : ''}`}</p>
              <ol class="steps" aria-label="Canary steps">
                ${rollout.rollout.policy.steps.map((step, index) => html`<li class=${index < rollout.stepsDone ? 'done' : index === rollout.rollout.stepIndex ? 'current' : ''}>${Math.round(step * 100)}%${index < rollout.stepsDone ? ' ✓' : index === rollout.rollout.stepIndex && rollout.rollout.state === 'RUNNING' ? ' (baking)' : ''}</li>`)}
              </ol>
              ${rollout.rollout.outcome ? html`<p>${rollout.rollout.outcome}</p>` : null}
              <table data-testid="rollout-decisions">
                <caption class="sr-only">Decisions of the rollout</caption>
                <thead><tr><th scope="col">When</th><th scope="col">Decision</th><th scope="col">Actor</th><th scope="col">Reason</th></tr></thead>
                <tbody>${rollout.decisions.map((d) => html`<tr><td>${time(d.at)}</td><td>${d.action}</td><td>${d.actor}</td><td>${d.reason}</td></tr>`)}</tbody>
              </table>`
          : html`<p class="muted">No rollout yet.</p>`}`}
    />
  </section>`;
}

import { parseOrThrow } from '../errors.js';
import type { Reports, RunUpdates } from '../stores.js';
import { championMetrics, type ModelSpec } from '../training/model-spec.js';
import type { RunContext } from '../training/run.js';
import { evaluateReleaseGate } from './gate.js';
import { HeldOutFileSchema } from './held-out.js';
import type { EvaluateAnswer } from './evaluate.js';

/** What Evaluate answered, as the Gate needs it (a reproduction never reaches the Gate). */
export type GateInput = Required<Pick<EvaluateAnswer, 'metrics' | 'heldOutUri' | 'latencyMsPerRow' | 'nonFinitePredictions'>> & { predictionStd?: number | undefined };

export interface GateStores {
  reports: Reports;
  runs: RunUpdates;
}

export const gateReportKey = (model: string, runId: string) => `gates/${model}/${runId}.json`;

/** JSON nulls stand for outputs that were not numbers; the gate's sanity check has counted them already. */
const asNumbers = (outputs: (number | null)[][]) => outputs.map((out) => out.map((value) => value ?? Number.NaN));

/**
 * Gate: judges the candidate against the spec's thresholds, the sanity checks and, when a version
 * serves in production, against that version on the same held-out rows (seeded paired bootstrap,
 * overall and per segment). Writes the report and records the verdict on the run; the state
 * machine's Choice after it stops a failed gate.
 */
export async function gateRun(stores: GateStores, input: { run: RunContext; spec: ModelSpec; evaluation: GateInput }) {
  const { run, spec, evaluation } = input;
  const heldOut = parseOrThrow(HeldOutFileSchema, JSON.parse(await stores.reports.getText(evaluation.heldOutUri)), 'held-out evidence');
  const report = evaluateReleaseGate({
    metrics: evaluation.metrics,
    policy: spec.gate,
    rows: evaluation.metrics.rows ?? heldOut.rows.length,
    ...(evaluation.predictionStd === undefined ? {} : { predictionStd: evaluation.predictionStd }),
    nonFinitePredictions: evaluation.nonFinitePredictions,
    latencyMsPerRow: evaluation.latencyMsPerRow,
    championMetrics: championMetrics(spec),
    ...(heldOut.champion
      ? {
          championVersion: heldOut.champion.version,
          paired: { task: heldOut.task, labels: heldOut.labels, candidate: asNumbers(heldOut.candidate), champion: asNumbers(heldOut.champion.outputs), segments: heldOut.segments },
        }
      : {}),
  });
  const reportUri = await stores.reports.put(
    gateReportKey(run.model, run.runId),
    JSON.stringify({ runId: run.runId, model: run.model, heldOutUri: evaluation.heldOutUri, ...report }, null, 2),
  );
  await stores.runs.updateRun(run.runId, { gateReportUri: reportUri, gatePassed: report.passed, gateSummary: report.summary });
  return { passed: report.passed, reportUri, summary: report.summary, champion: report.champion };
}

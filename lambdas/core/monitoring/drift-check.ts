import { DriftCheckRequestSchema, type DriftCheckAnswer, type DriftCheckRecord } from '../../contract/drift.js';
import type { DatasetRef } from '../data/dataset-version.js';
import type { Cell } from '../data/table-readers.js';
import { MlopsError, NotFoundError, parseOrThrow } from '../errors.js';
import type { Alias, ModelVersion } from '../registry/records.js';
import type { AliasName } from '../registry/keys.js';
import { loadModelFile, type ArtifactBytes } from '../serving/model-file.js';
import type { Arm, PredictionLogRecord } from '../serving/records.js';
import { streamArm, windowDates, type CheckWindow, type LogObjects, type ReadStats } from '../serving/rollout-evidence.js';
import type { ImportedArtifact, OnnxScorer } from '../training/imported-model.js';
import { durationMs, type ModelSpec } from '../training/model-spec.js';
import { readWindowInAthena, type AthenaPathSettings, type WindowQueries } from './drift-athena.js';
import { checkDrift, DEFAULT_DRIFT_SAMPLE_SIZE, DriftAccumulator, DriftReportSchema, monitoredFeatures, verdictsOf, type DriftReport, type PreviousVerdicts } from './drift.js';
import { driftReportHtml } from './drift-html.js';
import { buildReference, loadReference, referenceFeatures, requestRow, type ReferenceSample } from './reference.js';
import { performanceSummary, performanceWindowFor, windowPerformance } from './performance.js';
import { driftCheckMetrics, type MetricDatum } from './system-monitoring.js';

/**
 * DriftCheck: compares a window of one arm's traffic (the prediction log) with the reference of
 * the version that served it, and records the verdict.
 *
 * - The window is a duration ending now (the log's delivery buffer is waited out: it ends
 *   `bufferSeconds` before now) or an explicit from/to; a window in the future or inverted is refused.
 * - The arm's version: production by default; an arm pointing nowhere is refused.
 * - The reference: the sample Train stored with the version (sha256 checked), or for a version from
 *   before reference samples, a seeded sample of its dataset scored now by the same path.
 * - The window is streamed partition by partition into the drift engine's accumulator
 *   (core/monitoring/drift.ts); no rows of the arm in the window is refused. Past settings.athena's
 *   size it is aggregated by Athena into the same summary instead (core/monitoring/drift-athena.ts).
 * A refused check writes nothing: the report and the record are written only once the verdict exists.
 * A scheduled check (trigger `schedule`, core/monitoring/drift-schedule.ts) records an empty window as `insufficient` instead.
 */

export interface DriftCheckRegistry {
  getModel(model: string): Promise<{ spec: ModelSpec }>;
  findAlias(model: string, alias: AliasName): Promise<Alias | undefined>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
}

/** Where check records live (the registry table, under the model). */
export interface DriftCheckRecords {
  put(record: DriftCheckRecord): Promise<void>;
  /** The latest checks of a model, newest first. */
  list(model: string, limit: number): Promise<DriftCheckRecord[]>;
  find(model: string, checkId: string): Promise<DriftCheckRecord | undefined>;
}

export interface DriftCheckStores {
  registry: DriftCheckRegistry;
  /** The models bucket: model files and reference samples, by URI. */
  artifacts: ArtifactBytes;
  /** A seeded sample of a dataset version's rows (the fallback reference), at most `size` rows, in bounded memory. */
  datasets: { sampleRows(dataset: DatasetRef, size: number, seed: number): Promise<{ header: readonly string[]; rows: (readonly Cell[])[]; population: number }> };
  /** A scorer for an imported model's ONNX file. */
  onnx(manifest: ImportedArtifact): OnnxScorer;
  logs: LogObjects;
  /** The reports bucket: `put` answers the object's URI (contentType @default application/json). */
  reports: { put(key: string, text: string, contentType?: string): Promise<string>; getText(uri: string): Promise<string> };
  checks: DriftCheckRecords;
  /** CloudWatch (core/monitoring/system-monitoring.ts driftCheckMetrics): the check's scores, published before its record. */
  metrics?: { publish(data: readonly MetricDatum[]): Promise<void> };
  /** Athena over the partitioned log (lambdas/aws/athena-queries.ts): the large-window path, with settings.athena. */
  athena?: WindowQueries;
}

export interface DriftCheckSettings {
  /** The log's delivery buffer (LOG_BUFFER_SECONDS): a window ending now ends this long before now. */
  bufferSeconds: number;
  /**
   * The chart libraries' browser bundles (vega, vega-lite, vega-embed), read once per cold start: with
   * them each check also writes its HTML report (driftReportHtml) beside the JSON one.
   */
  reportLibraries?: () => Promise<string>;
  /** Windows of more log bytes than `aboveBytes` are aggregated in Athena (stores.athena) instead of streamed. @default - always streamed */
  athena?: AthenaPathSettings;
}

export interface DriftCheckInput {
  model: string;
  /** The request body (DriftCheckRequestSchema). */
  request: unknown;
  actor: string;
  trigger?: DriftCheckRecord['trigger'];
  now: Date;
  /** The random part of the check id (6 hex digits). */
  suffix: string;
}

/** The longest window a check reads. */
export const MAX_WINDOW_DAYS = 90;

/** The window a request asks for, checked against now: refused when in the future, inverted, empty or too long. */
export function driftWindow(request: { window?: string | undefined; from?: string | undefined; to?: string | undefined }, defaultWindow: string, now: Date, bufferSeconds: number): CheckWindow {
  let from: number;
  let to: number;
  if (request.from !== undefined && request.to !== undefined) {
    from = Date.parse(request.from);
    to = Date.parse(request.to);
    if (to > now.getTime() || from > now.getTime()) {
      throw new MlopsError('WINDOW_IN_FUTURE', `the window ${request.from} .. ${request.to} ends after now (${now.toISOString()}); the log has nothing there yet`, { field: to > now.getTime() ? 'to' : 'from' });
    }
    if (from >= to) throw new MlopsError('WINDOW_INVERTED', `the window starts at ${request.from}, not before its end ${request.to}`, { field: 'from' });
  } else {
    to = now.getTime() - bufferSeconds * 1000;
    from = to - durationMs(request.window ?? defaultWindow);
    if (from >= to) throw new MlopsError('WINDOW_INVERTED', `the window "${request.window ?? defaultWindow}" is empty`, { field: 'window' });
  }
  if (to - from > MAX_WINDOW_DAYS * 86_400_000) throw new MlopsError('WINDOW_TOO_LONG', `a drift check reads at most ${MAX_WINDOW_DAYS} days of traffic`, { field: 'window' });
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export const driftCheckId = (now: Date, suffix: string) => `${now.toISOString().replace(/[-:.]/g, '')}-${suffix}`;
export const driftReportKey = (model: string, checkId: string) => `drift-checks/${model}/${checkId}.json`;
export const driftHtmlReportKey = (model: string, checkId: string) => `drift-checks/${model}/${checkId}.html`;

/** The version an arm points at, or a refusal naming the arm. */
async function versionOnArm(registry: DriftCheckRegistry, model: string, arm: Arm): Promise<ModelVersion> {
  const alias = await registry.findAlias(model, arm);
  if (!alias) {
    if (arm === 'production') throw new MlopsError('NO_PRODUCTION_VERSION', `model "${model}" has no production version to check`, { field: 'arm' });
    throw new MlopsError('NO_VERSION_ON_ARM', `no version of "${model}" is on the ${arm} arm`, { field: 'arm' });
  }
  return registry.getVersion(model, alias.version);
}

/** The version's reference: its stored sample, or a seeded sample of its dataset scored now. */
export async function referenceOf(stores: Pick<DriftCheckStores, 'artifacts' | 'datasets' | 'onnx'>, version: ModelVersion, spec: ModelSpec): Promise<ReferenceSample> {
  if (version.reference) return loadReference(stores.artifacts, version.reference);
  const file = await loadModelFile(stores.artifacts, version.artifact);
  const features = referenceFeatures(file);
  const seed = spec.training.seed;
  const sample = await stores.datasets.sampleRows(version.dataset, spec.monitoring.referenceSampleSize, seed);
  const columns = new Map(sample.header.map((name, index) => [name, index]));
  const rows = sample.rows.map((cells, i) => requestRow(features, (name) => cells[columns.get(name) ?? -1] ?? null, `sampled row ${i + 1}`));
  const { reference } = await buildReference({ file, model: version.model, source: 'dataset', dataset: version.dataset, seed, population: sample.population, rows, onnx: stores.onnx });
  return reference;
}

/** Log records are fed to the accumulator in batches of this many. */
const FEED_BATCH = 500;

/** With `consecutiveWindows: k`, the verdicts of the same version and arm's last k-1 checks, oldest first. */
async function previousVerdicts(stores: Pick<DriftCheckStores, 'checks' | 'reports'>, model: string, version: number, arm: Arm, windows: number): Promise<PreviousVerdicts | undefined> {
  if (windows <= 1) return undefined;
  const earlier = (await stores.checks.list(model, 100)).filter((check) => check.version === version && check.arm === arm).slice(0, windows - 1);
  const reports = await Promise.all(earlier.map(async (check) => parseOrThrow(DriftReportSchema, JSON.parse(await stores.reports.getText(check.reportUri)), 'stored drift report')));
  return verdictsOf(reports.reverse());
}

/** Runs one check: refused (nothing written) or recorded with its report. */
export async function runDriftCheck(stores: DriftCheckStores, settings: DriftCheckSettings, input: DriftCheckInput): Promise<DriftCheckAnswer> {
  const request = parseOrThrow(DriftCheckRequestSchema, input.request ?? {}, 'drift check request');
  const { now } = input;
  const { spec } = await stores.registry.getModel(input.model);
  const window = driftWindow(request, spec.monitoring.window, now, settings.bufferSeconds);
  const version = await versionOnArm(stores.registry, input.model, request.arm);
  const { features, skipped } = monitoredFeatures(spec);

  // The reference first: the window's accumulator counts new categories and out-of-range values against it.
  const reference = await referenceOf(stores, version, spec);
  const referenceSide = new DriftAccumulator({ features, task: spec.task });
  referenceSide.addRows(reference.rows, reference.outputs);
  const referenceSummary = referenceSide.summary();

  // The window, partition by partition, in key order (the accumulator's reservoirs are seeded: same order, same sample).
  const current = new DriftAccumulator({ features, task: spec.task, reference: referenceSummary });
  // The window's outputs also feed the performance estimate (core/monitoring/performance.ts).
  const performance = await performanceWindowFor(stores, spec, version);
  const stats: ReadStats = { objects: 0, lines: 0, badLines: 0 };
  const until = new Date(Math.min(now.getTime(), Date.parse(window.to) + 86_400_000));
  let pending: PredictionLogRecord[] = [];
  let requests = 0;
  const dates = windowDates(window, until);
  // Past settings.athena.aboveBytes of log, Athena aggregates the window instead (core/monitoring/drift-athena.ts).
  const viaAthena = await readWindowInAthena(stores.athena, settings.athena, stores.logs, {
    model: input.model,
    version: version.version,
    arm: request.arm,
    window,
    dates,
    features,
    task: spec.task,
    reference: referenceSummary,
    sampleSize: DEFAULT_DRIFT_SAMPLE_SIZE,
    seed: 1,
  });
  if (viaAthena) {
    // The estimate's P(positive) of the window's outputs: here the prediction column's sample.
    for (const probability of viaAthena.summary.prediction?.sample ?? []) performance.addOutput({ probability });
  } else {
    await streamArm(stores.logs, input.model, { version: version.version, arm: request.arm }, window, dates, stats, (record) => {
      requests += 1;
      for (const output of record.outputs) performance.addOutput(output);
      pending.push(record);
      if (pending.length >= FEED_BATCH) {
        current.addRecords(pending);
        pending = [];
      }
    });
    current.addRecords(pending);
  }
  const currentSummary = viaAthena?.summary ?? current.summary();
  // On demand, an empty window is refused; a scheduled check records it as `insufficient` (checkDrift: rows < minRows).
  if (currentSummary.rows === 0 && input.trigger !== 'schedule') {
    throw new MlopsError('NO_LOGS_IN_WINDOW', `no logged ${request.arm} traffic of ${input.model} v${version.version} between ${window.from} and ${window.to}`, { field: request.from ? 'from' : 'window' });
  }

  const previous = await previousVerdicts(stores, input.model, version.version, request.arm, spec.monitoring.consecutiveWindows);
  const report: DriftReport = checkDrift({
    policy: spec.monitoring,
    task: spec.task,
    reference: referenceSummary,
    current: currentSummary,
    window,
    skipped,
    // Missing rates are judged by the data gate's rule and tolerance.
    maxMissingRateIncrease: spec.validation.maxMissingRateIncrease,
    ...(previous ? { previous } : {}),
  });

  const checkId = driftCheckId(now, input.suffix);
  const performanceReport = await windowPerformance(stores, performance, { model: input.model, spec, version, arm: request.arm, window, now, heldOut: reference.heldOut, checkId });
  const full = {
    kind: 'drift-check',
    checkId,
    model: input.model,
    version: version.version,
    arm: request.arm,
    window,
    bufferSeconds: settings.bufferSeconds,
    read: viaAthena ? { ...viaAthena.read, requests: viaAthena.requests, rows: currentSummary.rows } : { path: 'stream', ...stats, requests, rows: currentSummary.rows },
    reference: { source: reference.source, uri: version.reference?.uri ?? null, sha256: version.reference?.sha256 ?? null, dataset: reference.dataset, rows: reference.rows.length, population: reference.population, seed: reference.seed },
    checkedAt: now.toISOString(),
    actor: input.actor,
    ...report,
    performance: performanceReport,
  };
  const reportUri = await stores.reports.put(driftReportKey(input.model, checkId), JSON.stringify(full, null, 2));
  const htmlReportUri = settings.reportLibraries ? await stores.reports.put(driftHtmlReportKey(input.model, checkId), driftReportHtml(full, await settings.reportLibraries()), 'text/html; charset=utf-8') : undefined;
  const check: DriftCheckRecord = {
    checkId,
    model: input.model,
    version: version.version,
    arm: request.arm,
    window,
    status: report.status,
    datasetDrift: report.dataset.drifted,
    driftedFeatures: report.features.filter((feature) => feature.drifted === true).map((feature) => feature.column),
    predictionDrift: report.prediction?.drifted ?? null,
    rows: currentSummary.rows,
    referenceRows: reference.rows.length,
    referenceSource: reference.source,
    reportUri,
    ...(htmlReportUri !== undefined && { htmlReportUri }),
    trigger: input.trigger ?? 'manual',
    performance: performanceSummary(performanceReport),
    actor: input.actor,
    checkedAt: now.toISOString(),
  };
  // Published before the record, which commits the check: a failure leaves no record, and a retried scheduled check publishes again.
  if (stores.metrics) await stores.metrics.publish(driftCheckMetrics(check, report));
  await stores.checks.put(check);
  return { check, report: full };
}

/** A recorded check with its report. */
export async function showDriftCheck(stores: Pick<DriftCheckStores, 'checks' | 'reports' | 'registry'>, model: string, checkId?: string): Promise<DriftCheckAnswer> {
  const check = checkId === undefined ? (await stores.checks.list(model, 1))[0] : await stores.checks.find(model, checkId);
  if (!check) {
    await stores.registry.getModel(model);
    throw new NotFoundError(checkId === undefined ? `model ${model} has no drift checks yet` : `model ${model} has no drift check ${checkId}`, { field: 'checkId' });
  }
  return { check, report: JSON.parse(await stores.reports.getText(check.reportUri)) as Record<string, unknown> };
}

/** The check whose HTML report is asked for (the latest without an id), refused when it has none (checked before HTML reports). */
export async function driftHtmlReport(stores: Pick<DriftCheckStores, 'checks' | 'registry'>, model: string, checkId?: string): Promise<DriftCheckRecord & { htmlReportUri: string }> {
  const check = checkId === undefined ? (await stores.checks.list(model, 1))[0] : await stores.checks.find(model, checkId);
  if (!check) {
    await stores.registry.getModel(model);
    throw new NotFoundError(checkId === undefined ? `model ${model} has no drift checks yet` : `model ${model} has no drift check ${checkId}`, { field: 'checkId' });
  }
  if (check.htmlReportUri === undefined) throw new NotFoundError(`drift check ${check.checkId} of ${model} has no HTML report (it ran before HTML reports); its JSON report is ${check.reportUri}`, { field: 'checkId' });
  return { ...check, htmlReportUri: check.htmlReportUri };
}

/**
 * System monitoring, as pure definitions: the CloudWatch metrics the platform publishes, each model's
 * alarms and dashboard (names, thresholds from the spec, widgets), and the flow that keeps them in
 * step with the stored spec. The CloudWatch calls live in lambdas/aws/cloudwatch-monitoring.ts.
 *
 * Metrics (namespace METRICS_NAMESPACE, every one with an `environment` dimension):
 * - serving (the predict function, as EMF log lines: no call on the hot path): Invocations, Errors
 *   (0 or 1 per request, so Average is the error rate), Latency (ms; p50/p99 from the distribution)
 *   and ColdStart, per model (for the alarms) and per model, version and arm;
 * - drift checks (PutMetricData, so alarms also work on the emulator): DriftDetected (the check's
 *   verdict, with consecutiveWindows applied), DriftShare, PredictionDriftScore, each feature's
 *   FeatureDriftScore, and the window's performance (PerformanceValue when judged,
 *   PerformanceEstimate from CBPE, PerformanceDecayed when judged).
 * Cardinality: model x version x arm (4 arms) series, and features per checked version and arm;
 * a retired version's series stop receiving data and stop costing after the month.
 */
import type { DriftCheckRecord } from '../../contract/drift.js';
import { MlopsError } from '../errors.js';
import type { ModelSpec } from '../training/model-spec.js';
import { DRIFT_SHARE, type DriftReport } from './drift.js';

export const METRICS_NAMESPACE = 'serverless-mlops';
/** The `service` dimension the predict function's EMF lines carry (Powertools adds its service name). */
export const PREDICT_SERVICE = 'predict';

export const SERVING_METRICS = { invocations: 'Invocations', errors: 'Errors', latency: 'Latency', coldStarts: 'ColdStart' } as const;
export const CHECK_METRICS = {
  driftDetected: 'DriftDetected',
  driftShare: 'DriftShare',
  predictionDriftScore: 'PredictionDriftScore',
  featureDriftScore: 'FeatureDriftScore',
  performanceValue: 'PerformanceValue',
  performanceEstimate: 'PerformanceEstimate',
  performanceDecayed: 'PerformanceDecayed',
} as const;

/** One data point, without the `environment` dimension (the publisher adds it). */
export interface MetricDatum {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit: 'Count' | 'None' | 'Milliseconds';
  readonly at: Date;
}

/** A model's alarms are named under this prefix (`mlops monitor` lists the open ones by it). Model names hold no `/`, so one model's prefix never matches another's alarms. */
export const modelAlarmPrefix = (environment: string, model: string) => `mlops/${environment}/${model}/`;
export const MODEL_ALARM_KINDS = ['errors', 'latency-p99', 'drift', 'decay'] as const;
export type ModelAlarmKind = (typeof MODEL_ALARM_KINDS)[number];
export const modelAlarmName = (environment: string, model: string, kind: ModelAlarmKind) => `${modelAlarmPrefix(environment, model)}${kind}`;
/** Every alarm of an environment's models starts with this (the managers' IAM grant is scoped by it). */
export const environmentAlarmPrefix = (environment: string) => `mlops/${environment}/`;

/** Dashboard names allow only [A-Za-z0-9_-]: `_` separates, as model names hold none. The environment's own dashboard (from CDK) is `mlops_<env>`. */
export const environmentDashboardName = (environment: string) => `mlops_${environment}`;
export const modelDashboardPrefix = (environment: string) => `mlops_${environment}_`;
export const modelDashboardName = (environment: string, model: string) => `${modelDashboardPrefix(environment)}${model}`;

/** Where the alarms go and how they evaluate; from the environment's config (lib/config.ts `monitoring`). */
export interface MonitoringSettings {
  readonly environment: string;
  /** The alerts topic: ALARM and OK notifications. Its ARN also gives the dashboards their region and account. */
  readonly topicArn: string;
  /** Serving alarms (errors, latency): the period and how many periods must breach. */
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** Check alarms (drift, decay): the period a check's data point is read in; the state then holds until the next check. */
  readonly checkPeriodSeconds: number;
}

/** A metric alarm, as PutMetricAlarm takes it (one metric: the emulator evaluates no metric math). */
export interface AlarmDefinition {
  readonly name: string;
  readonly description: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic?: 'Average' | 'Maximum' | 'Sum';
  readonly extendedStatistic?: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly threshold: number;
  readonly comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold';
  /** notBreaching: no traffic is no error; ignore: a check alarm keeps its state until the next check publishes. */
  readonly treatMissingData: 'notBreaching' | 'ignore';
  readonly topicArn: string;
}

/** Series an alarm of a model reads: serving per model (every version and arm), checks on the production arm. */
const servingDimensions = (environment: string, model: string) => ({ environment, service: PREDICT_SERVICE, model });
const productionCheckDimensions = (environment: string, model: string) => ({ environment, model, arm: 'production' });

/** The model's four alarms, thresholds from its spec: rollout.maxErrorRate and maxLatencyP99Ms for serving; drift and decay as the check judged them (its thresholds, consecutiveWindows and the gate's tolerance). */
export function modelAlarms(spec: ModelSpec, settings: MonitoringSettings): AlarmDefinition[] {
  const { environment, topicArn } = settings;
  const serving = { dimensions: servingDimensions(environment, spec.name), periodSeconds: settings.periodSeconds, evaluationPeriods: settings.evaluationPeriods, treatMissingData: 'notBreaching', topicArn } as const;
  const check = { dimensions: productionCheckDimensions(environment, spec.name), periodSeconds: settings.checkPeriodSeconds, evaluationPeriods: 1, treatMissingData: 'ignore', topicArn } as const;
  return [
    {
      ...serving,
      name: modelAlarmName(environment, spec.name, 'errors'),
      description: `${spec.name} (${environment}): share of requests answered with a server error above rollout.maxErrorRate ${spec.rollout.maxErrorRate}`,
      metricName: SERVING_METRICS.errors,
      statistic: 'Average',
      threshold: spec.rollout.maxErrorRate,
      comparison: 'GreaterThanThreshold',
    },
    {
      ...serving,
      name: modelAlarmName(environment, spec.name, 'latency-p99'),
      description: `${spec.name} (${environment}): p99 latency above rollout.maxLatencyP99Ms ${spec.rollout.maxLatencyP99Ms} ms`,
      metricName: SERVING_METRICS.latency,
      extendedStatistic: 'p99',
      threshold: spec.rollout.maxLatencyP99Ms,
      comparison: 'GreaterThanThreshold',
    },
    {
      ...check,
      name: modelAlarmName(environment, spec.name, 'drift'),
      description: `${spec.name} (${environment}): the latest drift check of production found drift (share of drifted features >= ${DRIFT_SHARE}, or prediction drift, for ${spec.monitoring.consecutiveWindows} window(s) in a row)`,
      metricName: CHECK_METRICS.driftDetected,
      statistic: 'Maximum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
    },
    {
      ...check,
      name: modelAlarmName(environment, spec.name, 'decay'),
      description: `${spec.name} (${environment}): the latest judged performance window of production fell below the version's held-out metric by more than the gate's tolerance`,
      metricName: CHECK_METRICS.performanceDecayed,
      statistic: 'Maximum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
    },
  ];
}

/** Region and account from an ARN (the alerts topic's): the dashboards' widgets and alarm ARNs need them. */
export function arnParts(arn: string): { region: string; account: string } {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || !parts[3] || !parts[4]) throw new Error(`the alerts topic setting "${arn}" is not an ARN with a region and an account`); // a deployment fault, not a caller's
  return { region: parts[3], account: parts[4] };
}

const alarmArn = (settings: MonitoringSettings, name: string) => {
  const { region, account } = arnParts(settings.topicArn);
  return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
};

/** A CloudWatch metric-search expression over one metric of the namespace (dimension names sorted, as the schema lists them). */
const search = (dimensionNames: readonly string[], filters: Record<string, string>, metricName: string, stat: string, period: number) => {
  const schema = [METRICS_NAMESPACE, ...[...dimensionNames].sort()].join(',');
  const terms = [`MetricName="${metricName}"`, ...Object.entries(filters).map(([key, value]) => `${key}="${value}"`)].join(' ');
  return `SEARCH('{${schema}} ${terms}', '${stat}', ${period})`;
};

type Widget = { type: string; x: number; y: number; width: number; height: number; properties: Record<string, unknown> };

/** A time series widget of one or more search expressions, with optional horizontal lines (thresholds). */
function searchWidget(title: string, region: string, expressions: readonly { expression: string; label: string }[], period: number, lines: readonly { label: string; value: number }[] = []): Omit<Widget, 'x' | 'y'> {
  return {
    type: 'metric',
    width: 12,
    height: 6,
    properties: {
      title,
      region,
      view: 'timeSeries',
      period,
      metrics: expressions.map((e, i) => [{ expression: e.expression, label: e.label, id: `e${i + 1}` }]),
      ...(lines.length > 0 && { annotations: { horizontal: lines } }),
    },
  };
}

/**
 * The model's dashboard: serving per version and arm (requests, server errors, latency p50/p99,
 * cold starts), the error rate and p99 against the spec's limits, the drift share and each feature's
 * drift score per check, the live or estimated metric, and the state of its four alarms.
 */
export function modelDashboard(spec: ModelSpec, settings: MonitoringSettings): { name: string; body: string } {
  const { environment } = settings;
  const { region } = arnParts(settings.topicArn);
  const model = spec.name;
  const period = settings.periodSeconds;
  const checkPeriod = settings.checkPeriodSeconds;
  const perArm = ['environment', 'service', 'model', 'version', 'arm'];
  const perModel = ['environment', 'service', 'model'];
  const serving = { environment, service: PREDICT_SERVICE, model };
  const checkArm = ['environment', 'model', 'arm'];
  const checkVersion = ['environment', 'model', 'version', 'arm'];
  const widgets: Omit<Widget, 'x' | 'y'>[] = [
    searchWidget('Requests per version and arm', region, [{ expression: search(perArm, serving, SERVING_METRICS.invocations, 'Sum', period), label: '' }], period),
    searchWidget('Server errors per version and arm', region, [{ expression: search(perArm, serving, SERVING_METRICS.errors, 'Sum', period), label: '' }], period),
    searchWidget(
      'Latency p50 and p99 per version and arm (ms)',
      region,
      [
        { expression: search(perArm, serving, SERVING_METRICS.latency, 'p50', period), label: 'p50' },
        { expression: search(perArm, serving, SERVING_METRICS.latency, 'p99', period), label: 'p99' },
      ],
      period,
      [{ label: 'rollout.maxLatencyP99Ms', value: spec.rollout.maxLatencyP99Ms }],
    ),
    searchWidget('Error rate (all versions)', region, [{ expression: search(perModel, serving, SERVING_METRICS.errors, 'Average', period), label: 'error rate' }], period, [
      { label: 'rollout.maxErrorRate', value: spec.rollout.maxErrorRate },
    ]),
    searchWidget('Cold starts per version and arm', region, [{ expression: search(perArm, serving, SERVING_METRICS.coldStarts, 'Sum', period), label: '' }], period),
    searchWidget('Share of drifted features per arm', region, [{ expression: search(checkArm, { environment, model }, CHECK_METRICS.driftShare, 'Maximum', checkPeriod), label: '' }], checkPeriod, [
      { label: 'dataset drift', value: DRIFT_SHARE },
    ]),
    searchWidget(
      "Each feature's drift score (p-value or distance, per the report's method)",
      region,
      [{ expression: search([...checkVersion, 'feature'], { environment, model }, CHECK_METRICS.featureDriftScore, 'Maximum', checkPeriod), label: '' }],
      checkPeriod,
    ),
    searchWidget(
      'Performance: realized (labels) and estimated (CBPE)',
      region,
      [
        { expression: search([...checkVersion, 'metric'], { environment, model }, CHECK_METRICS.performanceValue, 'Average', checkPeriod), label: 'realized' },
        { expression: search([...checkVersion, 'metric'], { environment, model }, CHECK_METRICS.performanceEstimate, 'Average', checkPeriod), label: 'estimated' },
      ],
      checkPeriod,
    ),
    {
      type: 'alarm',
      width: 24,
      height: 3,
      properties: { title: `Alarms of ${model}`, alarms: MODEL_ALARM_KINDS.map((kind) => alarmArn(settings, modelAlarmName(environment, model, kind))) },
    },
  ];
  // Two widgets a row, the alarm strip last.
  const placed: Widget[] = widgets.map((widget, i) => ({ ...widget, x: widget.width === 24 ? 0 : (i % 2) * 12, y: Math.floor(i / 2) * 6 }));
  return { name: modelDashboardName(environment, model), body: JSON.stringify({ widgets: placed }) };
}

/**
 * The data points of one recorded drift check: the verdict and share (per arm, for the alarms, and
 * per version and arm), the prediction's and each feature's drift score, and the performance when the
 * check has one. An insufficient check publishes no drift data (it judged no drift, and a 0 would close the
 * drift alarm), only its performance if that was judged or estimated.
 */
export function driftCheckMetrics(check: DriftCheckRecord, report: Pick<DriftReport, 'features' | 'dataset' | 'prediction'>): MetricDatum[] {
  const at = new Date(check.checkedAt);
  const arm = { model: check.model, arm: check.arm };
  const version = { ...arm, version: String(check.version) };
  const data: MetricDatum[] = [];
  const both = (name: string, value: number) => {
    data.push({ name, dimensions: arm, value, unit: 'None', at }, { name, dimensions: version, value, unit: 'None', at });
  };
  if (check.status !== 'insufficient') {
    both(CHECK_METRICS.driftDetected, check.status === 'drift' ? 1 : 0);
    both(CHECK_METRICS.driftShare, report.dataset.share);
    if (report.prediction?.statistic !== null && report.prediction?.statistic !== undefined) {
      data.push({ name: CHECK_METRICS.predictionDriftScore, dimensions: version, value: report.prediction.statistic, unit: 'None', at });
    }
    for (const feature of report.features) {
      if (feature.statistic === null || !Number.isFinite(feature.statistic)) continue;
      data.push({ name: CHECK_METRICS.featureDriftScore, dimensions: { ...version, feature: feature.column }, value: feature.statistic, unit: 'None', at });
    }
  }
  const performance = check.performance;
  if (performance) {
    const withMetric = { ...version, metric: performance.metric };
    if (performance.value !== null) data.push({ name: CHECK_METRICS.performanceValue, dimensions: withMetric, value: performance.value, unit: 'None', at });
    if (performance.estimated !== null) data.push({ name: CHECK_METRICS.performanceEstimate, dimensions: withMetric, value: performance.estimated, unit: 'None', at });
    if (performance.status === 'judged' && performance.decayed !== null) both(CHECK_METRICS.performanceDecayed, performance.decayed ? 1 : 0);
  }
  return data;
}

/** A model's dashboard and alarms in CloudWatch (lambdas/aws/cloudwatch-monitoring.ts). Every call is idempotent. */
export interface ModelMonitoring {
  readonly settings: MonitoringSettings;
  /** Creates or replaces each alarm. */
  putAlarms(alarms: readonly AlarmDefinition[]): Promise<void>;
  /** Creates or replaces the dashboard. */
  putDashboard(name: string, body: string): Promise<void>;
  /** Deletes the alarms and the dashboard; absent ones are not an error. */
  remove(alarmNames: readonly string[], dashboardName: string): Promise<void>;
}

/**
 * Makes the model's dashboard and alarms what its stored spec says. Called after the spec is stored
 * (core/monitoring/model-schedules.ts): when it fails, the spec stays stored (one conditional write,
 * never half a record) and the error says so; putting the same spec again, or the next deploy for a
 * declared model, writes them. Until then the model keeps serving, checking and retraining; only
 * its dashboard and alarms are stale or missing.
 */
export async function syncModelMonitoring(monitoring: ModelMonitoring, spec: ModelSpec): Promise<void> {
  const dashboard = modelDashboard(spec, monitoring.settings);
  try {
    await monitoring.putAlarms(modelAlarms(spec, monitoring.settings));
    await monitoring.putDashboard(dashboard.name, dashboard.body);
  } catch (error) {
    throw new MlopsError(
      'MONITORING_NOT_SYNCED',
      `the spec of ${spec.name} is stored, but its CloudWatch alarms or dashboard could not be written (${(error as Error).message}); put the same spec again to write them`,
      { field: 'monitoring', cause: error },
    );
  }
}

/** Removes a model's dashboard and alarms (for when models can be deleted; none can today). */
export async function removeModelMonitoring(monitoring: ModelMonitoring, model: string): Promise<void> {
  const { environment } = monitoring.settings;
  await monitoring.remove(
    MODEL_ALARM_KINDS.map((kind) => modelAlarmName(environment, model, kind)),
    modelDashboardName(environment, model),
  );
}

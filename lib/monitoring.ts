import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  CHECK_METRICS,
  environmentAlarmPrefix,
  environmentDashboardName,
  METRICS_NAMESPACE,
  modelDashboardPrefix,
  PREDICT_SERVICE,
  SERVING_METRICS,
} from '../lambdas/core/monitoring/system-monitoring.js';

export interface MonitoringAlarmSettings {
  /** Serving alarms (errors, latency p99): the period. */
  readonly period: Duration;
  /** Serving alarms: how many periods in a row must breach. */
  readonly evaluationPeriods: number;
  /** Check alarms (drift, decay): the period a check's data point is read in; the state then holds until the next check. */
  readonly checkPeriod: Duration;
}

export interface MonitoringProps {
  /** Every metric, alarm and dashboard name carries it. */
  readonly environmentName: string;
  /** Where each model's alarms send ALARM and OK (lib/alerts.ts). */
  readonly alertTopic: sns.ITopic;
  /** The predict function: its EMF serving metrics, and its Lambda errors, throttles and duration, on the environment's dashboard. */
  readonly predict: lambda.IFunction;
  /** The DriftCheck function: its Lambda errors on the dashboard. */
  readonly driftCheck: lambda.IFunction;
  /** @default { period: 5 minutes, evaluationPeriods: 3, checkPeriod: 1 hour } */
  readonly alarms?: MonitoringAlarmSettings;
  /**
   * The local emulator resolves no `cloudwatch:namespace` condition key and checks PutDashboard,
   * DeleteDashboards and DeleteAlarms against "*": there the grants for those actions are on "*".
   * @default false
   */
  readonly emulator?: boolean;
}

/** A metric-search expression over the environment's series of one metric, one line per model. */
function perModel(environment: string, dimensions: readonly string[], metricName: string, statistic: string, period: Duration, label: string, filters: Record<string, string> = {}): cloudwatch.MathExpression {
  const schema = [METRICS_NAMESPACE, ...[...dimensions].sort()].join(',');
  const terms = [`MetricName="${metricName}"`, `environment="${environment}"`, ...Object.entries(filters).map(([key, value]) => `${key}="${value}"`)].join(' ');
  return new cloudwatch.MathExpression({ expression: `SEARCH('{${schema}} ${terms}', '${statistic}', ${period.toSeconds()})`, usingMetrics: {}, label, period });
}

/**
 * System monitoring of one environment: its CloudWatch dashboard (every model's traffic, error rate,
 * p99 latency, drift and decay, and the serving and drift-check functions), and the grants that let
 * functions publish the platform's metrics and manage each model's own dashboard and alarms, which
 * the platform writes at run time with the model's spec (core/monitoring/system-monitoring.ts), so a
 * model created after deploy gets them too.
 */
export class Monitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarmSettings: MonitoringAlarmSettings;
  /** The environment every name carries. */
  public readonly environmentName: string;
  private readonly props: MonitoringProps;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.props = props;
    this.environmentName = props.environmentName;
    this.alarmSettings = props.alarms ?? { period: Duration.minutes(5), evaluationPeriods: 3, checkPeriod: Duration.hours(1) };
    const environment = props.environmentName;
    const { period, checkPeriod } = this.alarmSettings;
    const serving = ['environment', 'service', 'model'];
    const servingFilter = { service: PREDICT_SERVICE };
    const check = ['environment', 'model', 'arm'];
    const production = { arm: 'production' };
    const wide = { width: 12, height: 6 };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: environmentDashboardName(environment),
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# serverless-mlops: ${environment}\nEvery model of the environment. Each model also has its own dashboard, \`${modelDashboardPrefix(environment)}<model>\`, and alarms named \`${environmentAlarmPrefix(environment)}<model>/<kind>\`, both written with its spec.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Requests per model', left: [perModel(environment, serving, SERVING_METRICS.invocations, 'Sum', period, '', servingFilter)], ...wide }),
      new cloudwatch.GraphWidget({ title: 'Error rate per model', left: [perModel(environment, serving, SERVING_METRICS.errors, 'Average', period, '', servingFilter)], ...wide }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Latency p99 per model (ms)', left: [perModel(environment, serving, SERVING_METRICS.latency, 'p99', period, '', servingFilter)], ...wide }),
      new cloudwatch.GraphWidget({ title: 'Cold starts per model', left: [perModel(environment, serving, SERVING_METRICS.coldStarts, 'Sum', period, '', servingFilter)], ...wide }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Share of drifted features (production)', left: [perModel(environment, check, CHECK_METRICS.driftShare, 'Maximum', checkPeriod, '', production)], ...wide }),
      new cloudwatch.GraphWidget({
        title: 'Drift and decay verdicts (production, 1 = found)',
        left: [
          perModel(environment, check, CHECK_METRICS.driftDetected, 'Maximum', checkPeriod, 'drift', production),
          perModel(environment, check, CHECK_METRICS.performanceDecayed, 'Maximum', checkPeriod, 'decay', production),
        ],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Predict function',
        left: [props.predict.metricErrors({ period }), props.predict.metricThrottles({ period })],
        right: [props.predict.metricDuration({ period, statistic: 'p99' })],
        ...wide,
      }),
      new cloudwatch.GraphWidget({ title: 'DriftCheck function', left: [props.driftCheck.metricErrors({ period }), props.driftCheck.metricInvocations({ period })], ...wide }),
    );
  }

  /**
   * Lets `fn` publish to the platform's namespace, and no other (PutMetricData has no resource ARN:
   * a `cloudwatch:namespace` condition scopes it), and gives it ENVIRONMENT_NAME.
   */
  allowPublishing(fn: lambda.Function): void {
    fn.addEnvironment('ENVIRONMENT_NAME', this.props.environmentName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        ...(this.props.emulator ? {} : { conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } } }),
      }),
    );
  }

  /**
   * Lets `fn` create, replace and delete the models' dashboards and alarms of this environment (names
   * under `mlops_<env>_` and `mlops/<env>/`, nothing else), and gives it the settings
   * lambdas/aws/cloudwatch-monitoring.ts reads.
   */
  allowManaging(fn: lambda.Function): void {
    const stack = Stack.of(this);
    const environment = this.props.environmentName;
    const { period, evaluationPeriods, checkPeriod } = this.alarmSettings;
    fn.addEnvironment('ENVIRONMENT_NAME', environment);
    fn.addEnvironment('ALERT_TOPIC_ARN', this.props.alertTopic.topicArn);
    fn.addEnvironment('ALARM_PERIOD_SECONDS', String(period.toSeconds()));
    fn.addEnvironment('ALARM_EVALUATION_PERIODS', String(evaluationPeriods));
    fn.addEnvironment('CHECK_ALARM_PERIOD_SECONDS', String(checkPeriod.toSeconds()));
    const alarms = `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${environmentAlarmPrefix(environment)}*`;
    // Dashboards are global: their ARN has no region.
    const dashboards = `arn:${stack.partition}:cloudwatch::${stack.account}:dashboard/${modelDashboardPrefix(environment)}*`;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'], resources: [alarms] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards'], resources: [dashboards] }));
    if (this.props.emulator) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards', 'cloudwatch:DeleteAlarms'], resources: ['*'] }));
    }
  }
}

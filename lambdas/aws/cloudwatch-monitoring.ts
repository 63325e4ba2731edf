import { CloudWatchClient, DeleteAlarmsCommand, DeleteDashboardsCommand, PutDashboardCommand, PutMetricAlarmCommand, PutMetricDataCommand, type MetricDatum as CloudWatchDatum } from '@aws-sdk/client-cloudwatch';
import { METRICS_NAMESPACE, type AlarmDefinition, type MetricDatum, type ModelMonitoring, type MonitoringSettings } from '../core/monitoring/system-monitoring.js';
import { requireEnv } from './env.js';

/** PutMetricData takes at most 1,000 data points a call. */
const MAX_DATA_PER_CALL = 1000;

const dimensionList = (dimensions: Readonly<Record<string, string>>) => Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value }));

/** Publishes data points to the platform's namespace with the environment's dimension added (the role may write that namespace only). */
export class CloudWatchMetrics {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly environment: string,
  ) {}

  async publish(data: readonly MetricDatum[]): Promise<void> {
    const wire: CloudWatchDatum[] = data.map((datum) => ({
      MetricName: datum.name,
      Dimensions: dimensionList({ environment: this.environment, ...datum.dimensions }),
      Value: datum.value,
      Unit: datum.unit,
      Timestamp: datum.at,
    }));
    for (let start = 0; start < wire.length; start += MAX_DATA_PER_CALL) {
      await this.client.send(new PutMetricDataCommand({ Namespace: METRICS_NAMESPACE, MetricData: wire.slice(start, start + MAX_DATA_PER_CALL) }));
    }
  }
}

/** Models' dashboards and alarms in CloudWatch; the role may touch only the environment's names (lib/monitoring.ts). */
export class CloudWatchModelMonitoring implements ModelMonitoring {
  constructor(
    private readonly client: CloudWatchClient,
    readonly settings: MonitoringSettings,
  ) {}

  async putAlarms(alarms: readonly AlarmDefinition[]): Promise<void> {
    for (const alarm of alarms) {
      await this.client.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm.name,
          AlarmDescription: alarm.description,
          Namespace: METRICS_NAMESPACE,
          MetricName: alarm.metricName,
          Dimensions: dimensionList(alarm.dimensions),
          ...(alarm.statistic ? { Statistic: alarm.statistic } : { ExtendedStatistic: alarm.extendedStatistic }),
          Period: alarm.periodSeconds,
          EvaluationPeriods: alarm.evaluationPeriods,
          DatapointsToAlarm: alarm.evaluationPeriods,
          Threshold: alarm.threshold,
          ComparisonOperator: alarm.comparison,
          TreatMissingData: alarm.treatMissingData,
          ActionsEnabled: true,
          AlarmActions: [alarm.topicArn],
          OKActions: [alarm.topicArn],
        }),
      );
    }
  }

  async putDashboard(name: string, body: string): Promise<void> {
    await this.client.send(new PutDashboardCommand({ DashboardName: name, DashboardBody: body }));
  }

  async remove(alarmNames: readonly string[], dashboardName: string): Promise<void> {
    // DeleteAlarms ignores names that do not exist; DeleteDashboards refuses them.
    await this.client.send(new DeleteAlarmsCommand({ AlarmNames: [...alarmNames] }));
    try {
      await this.client.send(new DeleteDashboardsCommand({ DashboardNames: [dashboardName] }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'ResourceNotFound' && name !== 'DashboardNotFoundError' && name !== 'ResourceNotFoundException') throw error;
    }
  }
}

/** The settings lib/monitoring.ts gives a function allowed to manage models' dashboards and alarms. */
export const monitoringSettingsFromEnv = (): MonitoringSettings => ({
  environment: requireEnv('ENVIRONMENT_NAME'),
  topicArn: requireEnv('ALERT_TOPIC_ARN'),
  periodSeconds: Number(requireEnv('ALARM_PERIOD_SECONDS')),
  evaluationPeriods: Number(requireEnv('ALARM_EVALUATION_PERIODS')),
  checkPeriodSeconds: Number(requireEnv('CHECK_ALARM_PERIOD_SECONDS')),
});

export const createModelMonitoring = () => new CloudWatchModelMonitoring(new CloudWatchClient({}), monitoringSettingsFromEnv());
export const createCloudWatchMetrics = () => new CloudWatchMetrics(new CloudWatchClient({}), requireEnv('ENVIRONMENT_NAME'));

import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { OpenAlarm } from '../contract/retraining.js';

/** The alarms in state ALARM whose names start with `prefix` (a model's: modelAlarmPrefix), every page. */
export async function openAlarms(cloudWatch: CloudWatchClient, prefix: string): Promise<OpenAlarm[]> {
  const alarms: OpenAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }));
    for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      alarms.push({
        name: alarm.AlarmName ?? '',
        reason: alarm.StateReason ?? '',
        since: alarm.StateUpdatedTimestamp?.toISOString() ?? null,
        metric: 'MetricName' in alarm ? (alarm.MetricName ?? null) : null,
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return alarms;
}

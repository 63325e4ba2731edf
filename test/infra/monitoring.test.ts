import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { statementsOfPoliciesFor, synthPlatform } from './helpers.js';

const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const policyPrefixOf = (stack: Stack, fn: { node: { defaultChild?: unknown } }) => logicalIdOf(stack, fn).replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRoleDefaultPolicy');

/** The statements granting CloudWatch actions, with resources and conditions as the template spells them. */
function cloudWatchStatements(template: ReturnType<typeof synthPlatform>['template'], policyPrefix: string) {
  return statementsOfPoliciesFor(template, policyPrefix)
    .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('cloudwatch:')))
    .map((statement) => ({ Action: [statement.Action].flat().sort(), Resource: JSON.stringify(statement.Resource), ...(statement.Condition ? { Condition: statement.Condition } : {}) }));
}

const arn = (rest: string) => JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

describe('system monitoring', () => {
  it("creates the environment's dashboard, named after it, with every model's traffic, errors, latency and drift", () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Per-model alarms are written at run time with each spec, not by CloudFormation.
    const alarmNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => String(alarm.Properties.AlarmName ?? ''));
    expect(alarmNames.filter((name) => name.startsWith('mlops/'))).toEqual([]);
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
    expect(dashboard.Properties.DashboardName).toBe('mlops_dev');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['Invocations', 'Errors', 'Latency', 'ColdStart', 'DriftShare', 'DriftDetected', 'PerformanceDecayed']) expect(body).toContain(`MetricName=\\\\\\"${metric}\\\\\\"`);
    expect(body).toContain('environment=\\\\\\"dev\\\\\\"');
  });

  it('lets only the DriftCheck function publish metrics, to the platform namespace only', () => {
    const { stack, template } = synthPlatform('dev');
    expect(cloudWatchStatements(template, policyPrefixOf(stack, stack.driftCheck.function.function))).toEqual([
      { Action: ['cloudwatch:PutMetricData'], Resource: '"*"', Condition: { StringEquals: { 'cloudwatch:namespace': 'serverless-mlops' } } },
    ]);
    const variables = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack, stack.driftCheck.function.function)]!.Properties.Environment.Variables;
    expect(variables.ENVIRONMENT_NAME).toBe('dev');
  });

  it("lets the registry API and DeclareModels write and delete the environment's model alarms and dashboards only, with the alarm settings", () => {
    for (const environment of ['dev', 'local'] as const) {
      const { stack, template } = synthPlatform(environment);
      const expected = [
        { Action: ['cloudwatch:DeleteAlarms', 'cloudwatch:PutMetricAlarm'], Resource: arn(`:cloudwatch:${stack.region}:${stack.account}:alarm:mlops/${environment}/*`) },
        { Action: ['cloudwatch:DeleteDashboards', 'cloudwatch:PutDashboard'], Resource: arn(`:cloudwatch::${stack.account}:dashboard/mlops_${environment}_*`) },
        // The emulator checks these three against "*" (local only).
        ...(environment === 'local' ? [{ Action: ['cloudwatch:DeleteAlarms', 'cloudwatch:DeleteDashboards', 'cloudwatch:PutDashboard'], Resource: '"*"' }] : []),
      ];
      for (const fn of [stack.management.registryHandler, stack.declaredModels.handler]) {
        expect(cloudWatchStatements(template, policyPrefixOf(stack, fn.function))).toEqual(expected);
        const variables = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack, fn.function)]!.Properties.Environment.Variables;
        expect(variables).toMatchObject({
          ENVIRONMENT_NAME: environment,
          ALERT_TOPIC_ARN: { Ref: logicalIdOf(stack, stack.alerts.topic) },
          ALARM_PERIOD_SECONDS: environment === 'local' ? '60' : '300',
          ALARM_EVALUATION_PERIODS: environment === 'local' ? '1' : '3',
          CHECK_ALARM_PERIOD_SECONDS: environment === 'local' ? '60' : '3600',
        });
      }
      // No other function writes or deletes alarms or dashboards (reading them, as `mlops monitor` does, is not checked here).
      const allowed = [stack.management.registryHandler, stack.declaredModels.handler, stack.driftCheck.function].map((fn) => policyPrefixOf(stack, fn.function));
      const others = Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => !allowed.some((prefix) => id.startsWith(prefix)));
      expect(others.filter((id) => cloudWatchStatements(template, id).some((s) => s.Action.some((a) => /:(Put|Delete)(MetricAlarm|Alarms|Dashboards?)$|\*/.test(a))))).toEqual([]);
    }
  });

  it('lets CloudWatch alarms of this account publish to the alerts topic, through a customer managed key with rotation', () => {
    const { stack, template } = synthPlatform('prod');
    const keyId = logicalIdOf(stack, stack.alerts.key);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }) }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }) })]) },
    });
    expect(template.findResources('AWS::KMS::Key')[keyId]!.DeletionPolicy).toBe('Retain');
  });

  it('fails config with an alarm period CloudWatch refuses', async () => {
    const { parseEnvironments } = await import('../../lib/config.js');
    expect(() => parseEnvironments({ dev: { region: 'eu-west-1', removalPolicy: 'destroy', productionRequiresApproval: false, logRetentionDays: 14, monitoring: { alarmPeriodSeconds: 90 } } })).toThrow(/monitoring\.alarmPeriodSeconds.*whole number of minutes/);
  });
});

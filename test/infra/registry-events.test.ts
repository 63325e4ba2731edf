import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REGISTRY_ROUTES } from '../../lambdas/contract/routes.js';
import { RegistryEvents } from '../../lib/registry-events.js';
import { actionsOfRoleFor, idOf, routesOf, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

const PREFIX = 'RegistryEventsPublisher';

describe('RegistryEvents (the registry stream published to an EventBridge bus)', () => {
  const { template } = synthPlatform('prod');
  const table = idOf(template, 'AWS::DynamoDB::Table', 'RegistryTable');
  const bus = idOf(template, 'AWS::Events::EventBus', 'RegistryEventsBus');
  const fn = idOf(template, 'AWS::Lambda::Function', PREFIX);

  it('streams the registry table with new images (the tracking table has no stream)', () => {
    expect(template.findResources('AWS::DynamoDB::Table')[table]!.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const tracking = idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable');
    expect(template.findResources('AWS::DynamoDB::Table')[tracking]!.Properties.StreamSpecification).toBeUndefined();
  });

  it('reads the stream from its start, new audit events and drift checks only, retrying halved batches into a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn },
      EventSourceArn: { 'Fn::GetAtt': [table, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', 'RegistryEventsDeadLetters'), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'AUDIT#' }, { prefix: 'DRIFT#' }] } } } }) }] },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  it('lets the publisher put events on its own bus only, and read the stream; nothing else', () => {
    const statements = statementsOfPoliciesFor(template, PREFIX);
    expect(statements.filter((s) => [s.Action].flat().includes('events:PutEvents')).map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [bus, 'Arn'] }]);
    expect(actionsOfRoleFor(template, PREFIX)).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'events:PutEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: { Ref: bus }, ENVIRONMENT_NAME: 'prod' }) } });
  });

  it('alarms on the first batch that could not be published, to the alerts topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: idOf(template, 'AWS::SNS::Topic', 'AlertsTopic') }],
    });
  });

  it('names the bus in the stack outputs, and serves GET /events from the registry function', () => {
    template.hasOutput('EventBusName', { Value: { Ref: bus } });
    template.hasOutput('EventBusArn', { Value: { 'Fn::GetAtt': [bus, 'Arn'] } });
    expect(routesOf(template, 'ManagementApiRegistryApi')).toEqual([...REGISTRY_ROUTES].sort());
    expect(REGISTRY_ROUTES).toContain('GET /events');
  });

  it('fails when the registry table has no stream', () => {
    const stack = new Stack();
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    expect(
      () =>
        new RegistryEvents(stack, 'Events', {
          registryTable: table,
          environmentName: 'dev',
          alertTopic: new sns.Topic(stack, 'Topic'),
          logRetention: logs.RetentionDays.ONE_WEEK,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
    ).toThrow(/no stream/);
  });
});

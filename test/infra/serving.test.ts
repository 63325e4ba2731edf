import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FeedbackRecordSchema, PredictionLogRecordSchema } from '../../lambdas/core/serving/records.js';
import { parseEnvironments, type ServingConfig } from '../../lib/config.js';
import { actionsOfRoleFor, ENVIRONMENTS, statementsOfPoliciesFor, synthPlatform, TABLE_READ_ACTIONS } from './helpers.js';

const valid = { region: 'eu-west-1', removalPolicy: 'retain', productionRequiresApproval: true, logRetentionDays: 30 };
const serving = (overrides: Partial<ServingConfig>): { serving: ServingConfig } => ({ serving: { ...ENVIRONMENTS.dev!.serving, ...overrides } });

const resourcesOf = (template: Template, type: string, idPrefix: string) =>
  Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(idPrefix));
/** The one resource of a type whose logical id starts with the prefix. */
function only(template: Template, type: string, idPrefix: string): { id: string; properties: Record<string, any> } {
  const found = resourcesOf(template, type, idPrefix);
  expect(found.map(([id]) => id), `${type} ${idPrefix}*`).toHaveLength(1);
  return { id: found[0]![0], properties: found[0]![1].Properties };
}
const streamOf = (template: Template, kind: 'Predictions' | 'Feedback') => only(template, 'AWS::KinesisFirehose::DeliveryStream', `ServingApiLog${kind}Stream`);
const tableOf = (template: Template, kind: 'Predictions' | 'Feedback') => only(template, 'AWS::Glue::Table', `ServingApiLog${kind}Table`);
const logicalId = (template: Template, type: string, idPrefix: string) => only(template, type, idPrefix).id;

describe('serving config', () => {
  it('defaults to the throttle of today, 2 s routing staleness, a 30-day index, 90-day logs, a 60 s buffer, JSON Lines and no API keys', () => {
    expect(parseEnvironments({ dev: valid }).dev!.serving).toEqual({
      throttle: { rateLimit: 100, burstLimit: 200 },
      routingStalenessSeconds: 2,
      requestIndexTtlDays: 30,
      predictionLogRetentionDays: 90,
      logBufferSeconds: 60,
      logFormat: 'jsonl',
      benchEcho: false,
    });
  });

  it('gives the local environment short waits and a throttle above the e2e bursts', () => {
    const local = ENVIRONMENTS.local!.serving;
    expect(local).toMatchObject({ routingStalenessSeconds: 2, logBufferSeconds: 0, logFormat: 'jsonl' });
    expect(local.throttle.rateLimit).toBeGreaterThanOrEqual(1000);
    expect(local.apiKeys).toBeUndefined();
  });

  const invalid = (servingBlock: unknown, emulator = false) => () => parseEnvironments({ dev: { ...valid, emulator, serving: servingBlock } });

  it('fails when the log buffer is under Firehose\'s 60 s outside the emulator, or over 900 s anywhere', () => {
    expect(invalid({ logBufferSeconds: 0 })).toThrow(/environments\.dev\.serving\.logBufferSeconds: must be 60 to 900 s: Firehose with dynamic partitioning has no zero buffering/);
    expect(invalid({ logBufferSeconds: 901 }, true)).toThrow(/environments\.dev\.serving\.logBufferSeconds: Firehose buffers at most 900 s/);
    expect(parseEnvironments({ dev: { ...valid, emulator: true, serving: { logBufferSeconds: 0 } } }).dev!.serving.logBufferSeconds).toBe(0);
  });

  it('fails when a throttle or a quota is out of API Gateway\'s range, naming the field', () => {
    expect(invalid({ throttle: { rateLimit: 0, burstLimit: 10 } })).toThrow(/environments\.dev\.serving\.throttle\.rateLimit: must be at least 1/);
    expect(invalid({ throttle: { rateLimit: 10, burstLimit: 6000 } })).toThrow(/environments\.dev\.serving\.throttle\.burstLimit: API Gateway allows a burst of at most 5,000/);
    const keys = { rateLimit: 10, burstLimit: 20, quota: { limit: 1000, period: 'DAY' } };
    expect(invalid({ apiKeys: { ...keys, quota: { limit: 1000, period: 'YEAR' } } })).toThrow(/environments\.dev\.serving\.apiKeys\.quota\.period: must be DAY, WEEK or MONTH/);
    expect(invalid({ apiKeys: { ...keys, quota: { limit: 0, period: 'DAY' } } })).toThrow(/environments\.dev\.serving\.apiKeys\.quota\.limit: must be at least 1/);
    expect(parseEnvironments({ dev: { ...valid, serving: { apiKeys: keys } } }).dev!.serving.apiKeys).toEqual(keys);
  });

  it('fails when a log setting is out of range or unknown', () => {
    expect(invalid({ logFormat: 'csv' })).toThrow(/environments\.dev\.serving\.logFormat: must be "jsonl" or "parquet"/);
    expect(invalid({ requestIndexTtlDays: 0 })).toThrow(/environments\.dev\.serving\.requestIndexTtlDays: must be at least 1 day/);
    expect(invalid({ predictionLogRetentionDays: 1.5 })).toThrow(/environments\.dev\.serving\.predictionLogRetentionDays/);
    expect(invalid({ routingStalenessSeconds: 600 })).toThrow(/environments\.dev\.serving\.routingStalenessSeconds: must be at most 300 s/);
    expect(invalid({ logBucket: 'x' })).toThrow(/environments\.dev\.serving.*logBucket/);
  });
});

describe('ServingApi: prediction log (Firehose)', () => {
  it('has two Direct PUT streams into the prediction-logs bucket, partitioned by model, version and day, with an error prefix', () => {
    const { template } = synthPlatform('dev');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'ArtifactStorePredictionLogs');
    for (const [kind, id] of [['predictions', 'Predictions'], ['feedback', 'Feedback']] as const) {
      const { properties } = streamOf(template, id);
      expect(properties.DeliveryStreamType).toBe('DirectPut');
      expect(properties.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
      const destination = properties.ExtendedS3DestinationConfiguration;
      expect(destination.BucketARN).toEqual({ 'Fn::GetAtt': [bucket, 'Arn'] });
      expect(destination.Prefix).toBe(`${kind}/model=!{partitionKeyFromQuery:model}/version=!{partitionKeyFromQuery:version}/date=!{timestamp:yyyy-MM-dd}/`);
      expect(destination.ErrorOutputPrefix).toBe(`errors/${kind}/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`);
      expect(destination.DynamicPartitioningConfiguration).toMatchObject({ Enabled: true });
      expect(destination.ProcessingConfiguration).toEqual({
        Enabled: true,
        Processors: [
          {
            Type: 'MetadataExtraction',
            Parameters: [
              { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{model: .model, version: .version}' },
              { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
            ],
          },
        ],
      });
      expect(destination.BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
      expect(destination.CloudWatchLoggingOptions).toMatchObject({ Enabled: true, LogStreamName: kind });
      expect(destination.DataFormatConversionConfiguration).toBeUndefined();
    }
  });

  it('buffers as long as the environment says; the emulator\'s 0 still gives Firehose its 60 s minimum', () => {
    const buffer = (template: Template) => streamOf(template, 'Predictions').properties.ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds;
    expect(buffer(synthPlatform('dev', serving({ logBufferSeconds: 300 })).template)).toBe(300);
    const local = synthPlatform('local');
    expect(buffer(local.template)).toBe(60);
    expect(local.stack.serving.logBufferSeconds).toBe(0);
  });

  it('gives each stream a delivery role that writes its own prefixes of the one bucket and nothing else', () => {
    const { template } = synthPlatform('dev');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'ArtifactStorePredictionLogs');
    for (const [kind, id] of [['predictions', 'Predictions'], ['feedback', 'Feedback']] as const) {
      const statements = statementsOfPoliciesFor(template, `ServingApiLog${id}DeliveryRole`);
      expect(actionsOfRoleFor(template, `ServingApiLog${id}DeliveryRole`)).toEqual([
        'logs:PutLogEvents',
        's3:AbortMultipartUpload',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:ListBucket',
        's3:ListBucketMultipartUploads',
        's3:PutObject',
      ]);
      const objectResources = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!.Resource;
      expect(objectResources).toEqual([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${kind}/*`]] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/errors/${kind}/*`]] },
      ]);
      const role = only(template, 'AWS::IAM::Role', `ServingApiLog${id}DeliveryRole`);
      expect(role.properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'firehose.amazonaws.com' });
    }
  });

  it('converts to Parquet with the Glue table\'s schema when the environment asks for it', () => {
    const { template } = synthPlatform('dev', serving({ logFormat: 'parquet' }));
    const conversion = streamOf(template, 'Predictions').properties.ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration;
    expect(conversion).toMatchObject({
      Enabled: true,
      SchemaConfiguration: { DatabaseName: 'mlops_dev', TableName: 'predictions', VersionId: 'LATEST' },
      InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
    });
    expect(tableOf(template, 'Predictions').properties.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(actionsOfRoleFor(template, 'ServingApiLogPredictionsDeliveryRole')).toEqual(expect.arrayContaining(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']));
  });

  it('keeps the log, the feedback and the errors as long as the environment says, and query results a week at most', () => {
    const { template } = synthPlatform('dev', serving({ predictionLogRetentionDays: 45 }));
    const bucket = only(template, 'AWS::S3::Bucket', 'ArtifactStorePredictionLogs');
    const rules = bucket.properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    for (const prefix of ['predictions/', 'feedback/', 'errors/']) {
      expect(rules).toContainEqual(expect.objectContaining({ Prefix: prefix, ExpirationInDays: 45, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }));
    }
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'athena-results/', ExpirationInDays: 7 }));
  });
});

describe('ServingApi: Glue tables and Athena', () => {
  const schemaFields = { Predictions: Object.keys(PredictionLogRecordSchema.shape), Feedback: Object.keys(FeedbackRecordSchema.shape) };

  it('declares tables whose columns are the record schemas\' fields, model and version as partition keys', () => {
    const { template } = synthPlatform('dev');
    for (const kind of ['Predictions', 'Feedback'] as const) {
      const input = tableOf(template, kind).properties.TableInput;
      const columns = (input.StorageDescriptor.Columns as { Name: string }[]).map((c) => c.Name);
      const partitions = (input.PartitionKeys as { Name: string; Type: string }[]).map((c) => c.Name);
      expect(partitions).toEqual(['model', 'version', 'date']);
      expect([...columns, 'model', 'version'].sort()).toEqual([...schemaFields[kind]].sort());
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    }
    const columns = tableOf(template, 'Predictions').properties.TableInput.StorageDescriptor.Columns;
    expect(columns).toEqual(
      expect.arrayContaining([
        { Name: 'latencyMs', Type: 'double' },
        { Name: 'inputs', Type: 'array<map<string,string>>' },
        { Name: 'error', Type: 'struct<code:string,message:string>' },
      ]),
    );
  });

  it('projects partitions from the path, so Athena needs no crawler', () => {
    const { template } = synthPlatform('dev');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'ArtifactStorePredictionLogs');
    const input = tableOf(template, 'Feedback').properties.TableInput;
    expect(input.Parameters).toMatchObject({
      classification: 'json',
      'projection.enabled': 'true',
      'projection.model.type': 'injected',
      'projection.version.type': 'injected',
      'projection.date.type': 'date',
      'projection.date.format': 'yyyy-MM-dd',
    });
    expect(input.Parameters['storage.location.template']).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: bucket }, '/feedback/model=${model}/version=${version}/date=${date}/']],
    });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'mlops_dev' }) });
  });

  it('has an Athena workgroup that writes encrypted results under athena-results/ of the logs bucket', () => {
    const { template } = synthPlatform('prod');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'ArtifactStorePredictionLogs');
    const { properties } = only(template, 'AWS::Athena::WorkGroup', 'ServingApiLogWorkGroup');
    expect(properties.Name).toBe('mlops-prod');
    expect(properties.RecursiveDeleteOption).toBe(false);
    expect(properties.WorkGroupConfiguration).toEqual({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      ResultConfiguration: {
        OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: bucket }, '/athena-results/']] },
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
      },
    });
  });
});

describe('ServingApi: request index', () => {
  it('is an on-demand table keyed by requestId with a TTL on expiresAt, recoverable and kept in prod', () => {
    const prod = only(synthPlatform('prod').template, 'AWS::DynamoDB::Table', 'ServingApiRequestIndex');
    expect(prod.properties).toMatchObject({
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    synthPlatform('prod').template.hasResource('AWS::DynamoDB::Table', { Properties: Match.objectLike({ TimeToLiveSpecification: Match.anyValue() }), DeletionPolicy: 'Retain' });
    synthPlatform('dev').template.hasResource('AWS::DynamoDB::Table', { Properties: Match.objectLike({ TimeToLiveSpecification: Match.anyValue() }), DeletionPolicy: 'Delete' });
  });
});

describe('ServingApi: functions, routes and grants', () => {
  const registryRead = [
    ...TABLE_READ_ACTIONS,
  ];
  const modelsRead = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];
  const tracing = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

  it('gives predict the contract\'s environment and exactly: registry and models read, PutRecordBatch on the predictions stream, PutItem on the index', () => {
    const { template } = synthPlatform('dev');
    const fn = only(template, 'AWS::Lambda::Function', 'ServingApiPredictFunction');
    const stream = streamOf(template, 'Predictions').id;
    const index = logicalId(template, 'AWS::DynamoDB::Table', 'ServingApiRequestIndex');
    expect(fn.properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      ENVIRONMENT_NAME: 'dev',
      REGISTRY_TABLE: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'RegistryTable') },
      PREDICTION_LOG_STREAM: { Ref: stream },
      REQUEST_INDEX_TABLE: { Ref: index },
      REQUEST_INDEX_TTL_DAYS: '30',
      ROUTING_STALENESS_MS: '2000',
    });
    expect(actionsOfRoleFor(template, 'ServingApiPredict')).toEqual([...registryRead, 'dynamodb:PutItem', 'firehose:PutRecordBatch', ...modelsRead, ...tracing].sort());
    const statements = statementsOfPoliciesFor(template, 'ServingApiPredict');
    expect(statements.find((s) => s.Action === 'firehose:PutRecordBatch')!.Resource).toEqual({ 'Fn::GetAtt': [stream, 'Arn'] });
    expect(statements.find((s) => s.Action === 'dynamodb:PutItem')!.Resource).toEqual({ 'Fn::GetAtt': [index, 'Arn'] });
  });

  it('gives feedback its environment and exactly: registry and models read, PutRecordBatch on the feedback stream, index lookups and puts', () => {
    const { template } = synthPlatform('dev', serving({ requestIndexTtlDays: 14 }));
    const fn = only(template, 'AWS::Lambda::Function', 'ServingApiFeedbackFunction');
    const stream = streamOf(template, 'Feedback').id;
    const index = logicalId(template, 'AWS::DynamoDB::Table', 'ServingApiRequestIndex');
    expect(fn.properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      REGISTRY_TABLE: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'RegistryTable') },
      REQUEST_INDEX_TABLE: { Ref: index },
      REQUEST_INDEX_TTL_DAYS: '14',
      FEEDBACK_STREAM: { Ref: stream },
    });
    expect(actionsOfRoleFor(template, 'ServingApiFeedback')).toEqual([...registryRead, 'dynamodb:PutItem', 'firehose:PutRecordBatch', ...modelsRead, ...tracing].sort());
    const statements = statementsOfPoliciesFor(template, 'ServingApiFeedback');
    expect(statements.find((s) => s.Action === 'firehose:PutRecordBatch')!.Resource).toEqual({ 'Fn::GetAtt': [stream, 'Arn'] });
    const indexStatement = statements.find((s) => [s.Action].flat().includes('dynamodb:PutItem'))!;
    expect(indexStatement.Action).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(indexStatement.Resource).toEqual({ 'Fn::GetAtt': [index, 'Arn'] });
  });

  it('serves POST /models/{model}/feedback beside predict, IAM-authorized, with the body validator', () => {
    const { template } = synthPlatform('dev');
    const restApi = logicalId(template, 'AWS::ApiGateway::RestApi', 'ServingApiRest');
    const feedbackResource = resourcesOf(template, 'AWS::ApiGateway::Resource', 'ServingApiRest').find(([, r]) => r.Properties.PathPart === 'feedback');
    expect(feedbackResource).toBeDefined();
    const method = Object.values(template.findResources('AWS::ApiGateway::Method')).find(
      (m) => m.Properties.RestApiId.Ref === restApi && m.Properties.ResourceId.Ref === feedbackResource![0],
    );
    expect(method!.Properties).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.model': true },
      RequestValidatorId: { Ref: logicalId(template, 'AWS::ApiGateway::RequestValidator', 'ServingApiRest') },
    });
    expect(method!.Properties.ApiKeyRequired).toBe(false);
    expect(JSON.stringify(method!.Properties.Integration.Uri)).toContain(logicalId(template, 'AWS::Lambda::Function', 'ServingApiFeedbackFunction'));
  });
});

describe('ServingApi: throttling and quotas', () => {
  it('throttles the serving stage as the environment says', () => {
    const { template } = synthPlatform('dev', serving({ throttle: { rateLimit: 350, burstLimit: 700 } }));
    const stage = only(template, 'AWS::ApiGateway::Stage', 'ServingApiRest');
    expect(stage.properties.MethodSettings).toEqual(expect.arrayContaining([expect.objectContaining({ ThrottlingRateLimit: 350, ThrottlingBurstLimit: 700 })]));
  });

  it('answers a throttled or out-of-quota caller 429 with the platform\'s JSON error and Retry-After', () => {
    const { template } = synthPlatform('dev');
    const responses = resourcesOf(template, 'AWS::ApiGateway::GatewayResponse', 'ServingApiRest').map(([, r]) => r.Properties);
    for (const [type, retryAfter] of [['THROTTLED', "'1'"], ['QUOTA_EXCEEDED', "'3600'"]] as const) {
      const response = responses.find((r) => r.ResponseType === type);
      expect(response, type).toMatchObject({ StatusCode: '429', ResponseParameters: { 'gatewayresponse.header.Retry-After': retryAfter } });
      expect(response!.ResponseTemplates['application/json']).toContain(`"code":"${type}"`);
    }
  });

  it('has no usage plan and requires no API key unless the environment configures keys', () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    for (const [, method] of resourcesOf(template, 'AWS::ApiGateway::Method', 'ServingApiRest')) expect(method.Properties.ApiKeyRequired).toBe(false);
  });

  it('binds a usage plan to the serving stage and requires an API key besides IAM on both routes when keys are configured', () => {
    const apiKeys = { rateLimit: 5, burstLimit: 10, quota: { limit: 10_000, period: 'WEEK' as const } };
    const { template } = synthPlatform('dev', serving({ apiKeys }));
    const plan = only(template, 'AWS::ApiGateway::UsagePlan', 'ServingApi');
    expect(plan.properties).toMatchObject({
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 10_000, Period: 'WEEK' },
      ApiStages: [{ ApiId: { Ref: logicalId(template, 'AWS::ApiGateway::RestApi', 'ServingApiRest') }, Stage: { Ref: logicalId(template, 'AWS::ApiGateway::Stage', 'ServingApiRest') } }],
    });
    const methods = resourcesOf(template, 'AWS::ApiGateway::Method', 'ServingApiRest').map(([, m]) => m.Properties);
    expect(methods).toHaveLength(2);
    for (const method of methods) expect(method).toMatchObject({ ApiKeyRequired: true, AuthorizationType: 'AWS_IAM' });
    // A call without a valid key gets the platform's JSON error too.
    const invalidKey = resourcesOf(template, 'AWS::ApiGateway::GatewayResponse', 'ServingApiRest').find(([, r]) => r.Properties.ResponseType === 'INVALID_API_KEY');
    expect(invalidKey![1].Properties).toMatchObject({ StatusCode: '403', ResponseTemplates: { 'application/json': expect.stringContaining('"code":"INVALID_API_KEY"') } });
    // The management API is for the platform's own users: no keys there.
    for (const [, method] of resourcesOf(template, 'AWS::ApiGateway::Method', 'ManagementApi')) expect(method.Properties.ApiKeyRequired ?? false).toBe(false);
  });
});

describe('ServingApi: code releases of the predict function (CodeDeploy)', () => {
  it('on AWS, calls a live alias that CodeDeploy shifts by a canary and rolls back on its error and p99 alarms', () => {
    const { template } = synthPlatform('prod');
    const alias = only(template, 'AWS::Lambda::Alias', 'ServingApiPredictLive');
    expect(alias.properties.Name).toBe('live');
    expect(alias.properties.FunctionName).toEqual({ Ref: logicalId(template, 'AWS::Lambda::Function', 'ServingApiPredictFunction') });
    const group = only(template, 'AWS::CodeDeploy::DeploymentGroup', 'ServingApiPredictRelease');
    expect(group.properties.DeploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(group.properties.AutoRollbackConfiguration).toEqual({ Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] });
    const alarms = group.properties.AlarmConfiguration.Alarms.map((a: { Name: { Ref: string } }) => a.Name.Ref).sort();
    expect(alarms).toEqual([logicalId(template, 'AWS::CloudWatch::Alarm', 'ServingApiPredictLiveErrors'), logicalId(template, 'AWS::CloudWatch::Alarm', 'ServingApiPredictLiveLatencyP99')].sort());
    template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: Match.objectLike({ DeploymentGroupName: Match.anyValue() }) } });
    const p99 = only(template, 'AWS::CloudWatch::Alarm', 'ServingApiPredictLiveLatencyP99').properties;
    expect(p99).toMatchObject({ MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 2500, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    expect(only(template, 'AWS::CloudWatch::Alarm', 'ServingApiPredictLiveErrors').properties).toMatchObject({ MetricName: 'Errors', Statistic: 'Sum', Threshold: 1 });
    expect(JSON.stringify(p99.Dimensions)).toContain(':live');
    // The predict route's integration and its invoke permission name the alias, not the bare function.
    const predictMethod = resourcesOf(template, 'AWS::ApiGateway::Method', 'ServingApiRest').find(([id]) => id.includes('predict'))!;
    expect(JSON.stringify(predictMethod[1].Properties.Integration.Uri)).toContain(alias.id);
  });

  it('on the emulator, which has no CodeDeploy, calls the function itself: no alias, no deployment group, no alarms', () => {
    const { template } = synthPlatform('local');
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    template.resourceCountIs('AWS::CodeDeploy::Application', 0);
    template.resourceCountIs('AWS::Lambda::Alias', 0);
    expect(resourcesOf(template, 'AWS::CloudWatch::Alarm', 'ServingApi')).toHaveLength(0);
    const predictMethod = resourcesOf(template, 'AWS::ApiGateway::Method', 'ServingApiRest').find(([id]) => id.includes('predict'))!;
    expect(JSON.stringify(predictMethod[1].Properties.Integration.Uri)).toContain(logicalId(template, 'AWS::Lambda::Function', 'ServingApiPredictFunction'));
  });
});

describe('ServingApi: outputs and checks', () => {
  it('outputs the streams, the request index, the Glue database and the Athena workgroup for the clients', () => {
    const { template } = synthPlatform('dev');
    const outputs = template.findOutputs('*');
    expect(outputs.PredictionLogStream?.Value).toEqual({ Ref: streamOf(template, 'Predictions').id });
    expect(outputs.FeedbackStream?.Value).toEqual({ Ref: streamOf(template, 'Feedback').id });
    expect(outputs.RequestIndexTable?.Value).toEqual({ Ref: logicalId(template, 'AWS::DynamoDB::Table', 'ServingApiRequestIndex') });
    expect(outputs.GlueDatabase?.Value).toBe('mlops_dev');
    expect(outputs.AthenaWorkGroup?.Value).toEqual({ Ref: logicalId(template, 'AWS::Athena::WorkGroup', 'ServingApiLogWorkGroup') });
  });

  it('passes cdk-nag with the options cdk.json does not set: Parquet and API keys', () => {
    const { stack } = synthPlatform('prod', serving({ logFormat: 'parquet', apiKeys: { rateLimit: 5, burstLimit: 10, quota: { limit: 100, period: 'DAY' } } }));
    for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
      const report = new Pack(stack).validateScope(stack);
      // These options change only the serving constructs (test/infra/nag.test.ts checks the whole stack as cdk.json configures it).
      const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
      expect(findings.filter((finding) => finding.includes('/ServingApi/'))).toEqual([]);
    }
  });
});

describe('ServingApi: the bench\'s echo route (serving.benchEcho)', () => {
  const echoMethodOf = (template: Template) => {
    const bench = resourcesOf(template, 'AWS::ApiGateway::Resource', 'ServingApiRest').find(([, r]) => r.Properties.PathPart === 'bench');
    const echo = resourcesOf(template, 'AWS::ApiGateway::Resource', 'ServingApiRest').find(([, r]) => r.Properties.PathPart === 'echo');
    if (!bench || !echo) return undefined;
    expect(echo[1].Properties.ParentId).toEqual({ Ref: bench[0] });
    return Object.values(template.findResources('AWS::ApiGateway::Method')).find((m) => m.Properties.ResourceId.Ref === echo[0]);
  };

  it('is on in local (cdk.json) and off by default', () => {
    expect(ENVIRONMENTS.local!.serving.benchEcho).toBe(true);
    for (const name of ['dev', 'staging', 'prod'] as const) expect(ENVIRONMENTS[name]!.serving.benchEcho, name).toBe(false);
  });

  it('fails when an environment other than local, or local off the emulator, sets it, naming the field', () => {
    const local = { ...valid, emulator: true };
    expect(() => parseEnvironments({ staging: { ...valid, serving: { benchEcho: true } } })).toThrow(/environments\.staging\.serving\.benchEcho: only the local environment, on the emulator, may deploy the bench's echo route/);
    expect(() => parseEnvironments({ dev: { ...local, serving: { benchEcho: true } } })).toThrow(/environments\.dev\.serving\.benchEcho: only the local environment/);
    expect(() => parseEnvironments({ local: { ...valid, serving: { benchEcho: true } } })).toThrow(/environments\.local\.serving\.benchEcho/);
    expect(parseEnvironments({ local: { ...local, serving: { benchEcho: true } } }).local!.serving.benchEcho).toBe(true);
  });

  it('in local, serves POST /bench/echo from a function deployed as predict is: same construct, memory, layer, runtime, IAM auth and validator', () => {
    const { template, stack } = synthPlatform('local');
    const echo = only(template, 'AWS::Lambda::Function', 'ServingApiBenchEchoFunction').properties;
    const predict = only(template, 'AWS::Lambda::Function', 'ServingApiPredictFunction').properties;
    for (const property of ['Runtime', 'Architectures', 'MemorySize', 'Timeout', 'Handler', 'Layers', 'TracingConfig']) expect(echo[property], property).toEqual(predict[property]);
    expect(echo.Layers).toHaveLength(1);
    expect(stack.serving.benchEchoFunction!.constructor).toBe(stack.serving.predictFunction.constructor);
    expect(echo.Environment.Variables).toEqual({ NODE_OPTIONS: '--enable-source-maps' });
    // Nothing to read or write: tracing only.
    expect(actionsOfRoleFor(template, 'ServingApiBenchEcho')).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);

    const method = echoMethodOf(template);
    const predictMethod = resourcesOf(template, 'AWS::ApiGateway::Method', 'ServingApiRest').find(([id]) => id.includes('predict'))![1];
    expect(method!.Properties).toMatchObject({ HttpMethod: 'POST', AuthorizationType: 'AWS_IAM', ApiKeyRequired: false });
    for (const property of ['AuthorizationType', 'RequestValidatorId', 'RequestModels']) expect(method!.Properties[property], property).toEqual(predictMethod.Properties[property]);
    expect(method!.Properties.Integration.Type).toBe(predictMethod.Properties.Integration.Type);
    expect(JSON.stringify(method!.Properties.Integration.Uri)).toContain(logicalId(template, 'AWS::Lambda::Function', 'ServingApiBenchEchoFunction'));
  });

  it.each(['dev', 'staging', 'prod'] as const)('is absent from the %s template', (name) => {
    const { template, stack } = synthPlatform(name);
    expect(resourcesOf(template, 'AWS::Lambda::Function', 'ServingApiBenchEcho')).toEqual([]);
    expect(echoMethodOf(template)).toBeUndefined();
    expect(stack.serving.benchEchoFunction).toBeUndefined();
  });

  it('stays absent outside local even when a config object carries it (the stack checks the environment too)', () => {
    const { template } = synthPlatform('prod', serving({ benchEcho: true }));
    expect(resourcesOf(template, 'AWS::Lambda::Function', 'ServingApiBenchEcho')).toEqual([]);
    expect(echoMethodOf(template)).toBeUndefined();
  });
});

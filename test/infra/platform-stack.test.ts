import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PLATFORM_RUNTIME } from '../../lib/platform-function.js';
import { actionsOfRoleFor, DECLARED_MODELS, ENVIRONMENTS, stateMachineDefinition, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

/** Functions that aws-cdk-lib brings itself: the auto-delete-objects provider and DeclaredModels' provider framework. */
const isCdkOwnFunction = (logicalId: string) => logicalId.startsWith('CustomS3AutoDeleteObjects') || logicalId.startsWith('DeclaredModelsProviderframework');

describe('PlatformStack resource inventory', () => {
  it('creates exactly the platform resources for an environment', () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::S3::Bucket', 5);
    // The registry, the tracking table and serving's request index.
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    // The training pipeline, dataset registration, batch scoring and rollout.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 2);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    // Retraining schedules are platform-managed Scheduler schedules, not rules (model-schedules.test.ts).
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('Custom::DeclaredModels', 1);
    // 10 pipeline functions (7 training steps, RequestApproval, ExpireApproval, Promote), predict, feedback, dataset registration,
    // the datasets, registry and runs APIs, DeclareModels, batch scoring's Prepare, ScoreChunk, Finish and API, the rollout's step and check,
    // DriftCheck, the retraining guardrails (RetrainTrigger) and the registry events' publisher, all on the platform runtime;
    // the other functions are CDK's own: DeclaredModels' provider framework, and the auto-delete-objects provider
    // in a DESTROY environment only.
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const platformFunctions = functions.filter(([id]) => !isCdkOwnFunction(id));
    expect(platformFunctions).toHaveLength(26);
    for (const [, fn] of platformFunctions) expect(fn.Properties.Runtime).toBe(PLATFORM_RUNTIME.name);
    expect(functions).toHaveLength(28);
    expect(Object.keys(synthPlatform('prod').template.findResources('AWS::Lambda::Function'))).toHaveLength(27);
  });
});

describe('ArtifactStore', () => {
  it('versions, encrypts and blocks public access on every data bucket', () => {
    const { template } = synthPlatform('prod');
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    for (const bucket of buckets) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    const versioned = buckets.filter((b) => b.Properties.VersioningConfiguration?.Status === 'Enabled');
    expect(versioned).toHaveLength(4);
    // Every data bucket logs its access to the access-log bucket.
    expect(buckets.filter((b) => b.Properties.LoggingConfiguration)).toHaveLength(4);
  });

  it('denies every non-TLS request on every bucket', () => {
    const { template } = synthPlatform('prod');
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(5);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  it('is TLS-only in every environment on AWS; only the emulator, which serves plain HTTP, leaves the TLS deny out', () => {
    const tlsDeny = (template: ReturnType<typeof synthPlatform>['template'], type: string) =>
      Object.values(template.findResources(type)).filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes('aws:SecureTransport'));
    for (const environment of ['dev', 'staging', 'prod'] as const) {
      const { template } = synthPlatform(environment);
      expect(tlsDeny(template, 'AWS::S3::BucketPolicy'), environment).toHaveLength(5);
      expect(tlsDeny(template, 'AWS::SNS::TopicPolicy'), environment).toHaveLength(1);
      // One queue: the registry events' dead letters (stream batches that could not be published).
      expect(tlsDeny(template, 'AWS::SQS::QueuePolicy'), environment).toHaveLength(1);
    }
    const { template, stack } = synthPlatform('local');
    for (const type of ['AWS::S3::BucketPolicy', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy']) expect(tlsDeny(template, type), type).toHaveLength(0);
    // On the emulator the deploy publishes assets with the caller's credentials, not the bootstrap roles.
    expect(stack.synthesizer.constructor.name).toBe('CliCredentialsStackSynthesizer');
    expect(synthPlatform('prod').stack.synthesizer.constructor.name).toBe('DefaultStackSynthesizer');
  });

  it('answers task tokens on the pipeline only; on the emulator, which checks them against "*", on any state machine', () => {
    const taskResponses = (environment: 'local' | 'prod') =>
      statementsOfPoliciesFor(synthPlatform(environment).template, 'ManagementApiRegistryApi')
        .filter((statement) => [statement.Action].flat().includes('states:SendTaskSuccess'))
        .map((statement) => statement.Resource);
    expect(taskResponses('prod')).toEqual([{ Ref: expect.stringMatching(/^TrainingPipeline/) }]);
    expect(taskResponses('local')).toEqual(expect.arrayContaining([{ Ref: expect.stringMatching(/^TrainingPipeline/) }, '*']));
  });

  it('moves prediction logs to infrequent access, and expires each prefix at the retention it is given, even past 300 days', () => {
    const { template } = synthPlatform('dev', { serving: { ...ENVIRONMENTS.dev!.serving, predictionLogRetentionDays: 400 } });
    const [bucket] = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'age-out-prediction-logs' })]) } } }));
    const rules: { Id: string; ExpirationInDays?: number; Prefix?: string; Transitions?: unknown }[] = bucket!.Properties.LifecycleConfiguration.Rules;
    expect(rules.find((rule) => rule.Id === 'age-out-prediction-logs')).toEqual(
      expect.objectContaining({ Status: 'Enabled', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
    );
    // No bucket-wide expiry cuts the prefixes' retention short.
    expect(rules.filter((rule) => rule.ExpirationInDays !== undefined && rule.Prefix === undefined)).toEqual([]);
    for (const prefix of ['predictions/', 'feedback/']) expect(rules.find((rule) => rule.Prefix === prefix)?.ExpirationInDays).toBe(400);
  });

  it('retains buckets and tables in prod and deletes them in dev', () => {
    const prod = synthPlatform('prod').template;
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table']) {
      const resources = Object.values(prod.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      }
    }
    const dev = synthPlatform('dev').template;
    for (const resource of Object.values(dev.findResources('AWS::DynamoDB::Table'))) expect(resource.DeletionPolicy).toBe('Delete');
    // Only DESTROY environments on AWS get the custom resource that empties buckets.
    dev.resourceCountIs('Custom::S3AutoDeleteObjects', 5);
    prod.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    synthPlatform('local').template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('Registry and Tracking tables', () => {
  it('are on-demand, encrypted, point-in-time recoverable, keyed pk/sk', () => {
    const { template } = synthPlatform('prod');
    // The registry and tracking tables (serving's request index is keyed requestId: test/infra/serving.test.ts).
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table')).filter((table) => table.Properties.KeySchema[0].AttributeName === 'pk');
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
    }
  });

  it('indexes runs by model and start time', () => {
    const { template } = synthPlatform('dev');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byTime',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('TrainingPipeline', () => {
  it('runs StartRun -> ValidateData -> Train -> Evaluate -> Gate -> Register, with a Choice on the gate', () => {
    const { template } = synthPlatform('dev');
    const definition = stateMachineDefinition(template);
    expect(definition.StartAt).toBe('StartRun');
    const next = (state: string) => definition.States[state].Next;
    // Training (any mode but promote and transfer) goes through ValidateData; release.test.ts covers the other branch.
    expect(next('StartRun')).toBe('Promotion?');
    expect(definition.States['Promotion?'].Default).toBe('ValidateData');
    expect(['ValidateData', 'Train', 'Evaluate', 'Gate'].map(next)).toEqual(['Train', 'Evaluate', 'Reproduction?', 'GatePassed']);
    // A reproduction stops after Evaluate: it never reaches the gate or the registry.
    const reproduction = definition.States['Reproduction?'];
    expect(reproduction.Choices).toEqual([{ Variable: '$.run.mode', StringEquals: 'reproduce', Next: 'Reproduced' }]);
    expect(reproduction.Default).toBe('Gate');
    expect(definition.States.Reproduced.Type).toBe('Succeed');
    const choice = definition.States.GatePassed;
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ Variable: '$.gate.passed', BooleanEquals: true, Next: 'Register' }]);
    // A failed gate never reaches Register: it records the failure and fails.
    expect(choice.Default).toBe('GateRejected');
    expect(next('GateRejected')).toBe('RecordFailure');
    expect(next('RecordFailure')).toBe('TrainingFailed');
    expect(definition.States.TrainingFailed.Type).toBe('Fail');
    // After Register, the release (release.test.ts).
    expect(next('Register')).toBe('Release?');
  });

  it('retries transient errors and catches every failure into RecordFailure', () => {
    const definition = stateMachineDefinition(synthPlatform('dev').template);
    for (const name of ['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate', 'Register', 'Promote']) {
      const state = definition.States[name];
      expect(state.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals)).toEqual(
        expect.arrayContaining(['Lambda.TooManyRequestsException', 'ThrottlingException', 'ProvisionedThroughputExceededException']),
      );
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: `${name}Failed` }]);
      expect(definition.States[`${name}Failed`].Next).toBe('RecordFailure');
      expect(definition.States[`${name}Failed`].Parameters.step).toBe(name);
    }
  });

  it('is a Standard state machine with full logging, tracing and a timeout that covers training and the wait for approval', () => {
    const { template } = synthPlatform('dev');
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    // Two hours of training plus the environment's approval timeout (3 days in dev, the default).
    expect(ENVIRONMENTS.dev!.approvalTimeoutSeconds).toBe(3 * 24 * 3600);
    expect(stateMachineDefinition(template).TimeoutSeconds).toBe(7200 + 3 * 24 * 3600);
  });

  it('grants each step only what it uses', () => {
    const { template } = synthPlatform('dev');
    // Of the training steps, Register alone writes the registry (the release steps are in release.test.ts);
    // RecordFailure publishes alerts, and no training step does.
    const registerActions = actionsOfRoleFor(template, 'TrainingPipelineRegisterHandler');
    expect(registerActions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']));
    expect(registerActions.some((a) => a.startsWith('s3:') || a.startsWith('sns:'))).toBe(false);
    expect(actionsOfRoleFor(template, 'TrainingPipelineRecordFailureHandler')).toEqual(
      expect.arrayContaining(['sns:Publish']),
    );
    for (const step of ['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate']) {
      expect(actionsOfRoleFor(template, `TrainingPipeline${step}Handler`), step).not.toContain('sns:Publish');
    }
    const trainActions = actionsOfRoleFor(template, 'TrainingPipelineTrainHandler');
    expect(trainActions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject']));
    expect(trainActions).not.toContain('s3:DeleteObject*');
    // Train reads the models bucket too: an import describes the ONNX file uploaded there.
    const trainPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('TrainingPipelineTrainHandler'))![1];
    const readsModels = (trainPolicy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some(
      (statement) => [statement.Action].flat().includes('s3:GetObject*') && JSON.stringify(statement.Resource).includes('ArtifactStoreModels'),
    );
    expect(readsModels).toBe(true);
  });

  it('tells Register whether production needs approval in the environment', () => {
    for (const [env, expected] of [['dev', 'false'], ['prod', 'true']] as const) {
      const registers = Object.entries(synthPlatform(env).template.findResources('AWS::Lambda::Function')).filter(([id]) =>
        id.startsWith('TrainingPipelineRegisterHandler'),
      );
      expect(registers, env).toHaveLength(1);
      expect(registers[0]![1].Properties.Environment.Variables, env).toMatchObject({ PRODUCTION_REQUIRES_APPROVAL: expected, ENVIRONMENT_NAME: env });
    }
  });
});

describe('Lambda functions', () => {
  it('run on the current Node.js runtime with tracing, source maps and their own log group', () => {
    const { template } = synthPlatform('staging');
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([id, f]) => f.Properties.Runtime === PLATFORM_RUNTIME.name && !isCdkOwnFunction(id))
      .map(([, f]) => f);
    expect(functions).toHaveLength(26);
    expect(PLATFORM_RUNTIME.name).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    for (const fn of functions) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays);
    expect(new Set(retentions)).toEqual(new Set([90]));
  });
});

describe('ServingApi', () => {
  it('exposes POST /models/{model}/predict behind IAM authorization and a request validator', () => {
    const { template } = synthPlatform('dev');
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{model}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestValidatorId: Match.anyValue(),
      RequestParameters: { 'method.request.path.model': true },
      Integration: Match.objectLike({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });

  it('throttles, traces and access-logs the stage', () => {
    const { template } = synthPlatform('dev');
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200, LoggingLevel: 'INFO' })],
    });
  });

  it('answers API Gateway errors with the same JSON error shape as the function', () => {
    const { template } = synthPlatform('dev');
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"INVALID_REQUEST"') },
    });
  });

  it('lets the predict function read the registry and models and hand records to Firehose, nothing more', () => {
    const { template } = synthPlatform('dev');
    const actions = actionsOfRoleFor(template, 'ServingApiPredict');
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 's3:GetObject*', 'firehose:PutRecordBatch']));
    // Its one write to DynamoDB is the request index's PutItem (test/infra/serving.test.ts); no S3 write at all.
    expect(actions.filter((a) => /dynamodb:(UpdateItem|DeleteItem|BatchWriteItem)|s3:Put/.test(a))).toEqual([]);
  });
});

describe('Alerts', () => {
  it('encrypts the alert topic and subscribes the environment alarm e-mail', () => {
    const prod = synthPlatform('prod').template;
    prod.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'mlops-alerts@example.com' });
    synthPlatform('dev').template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('DeclaredModels', () => {
  it('puts the declared specs into a custom resource served by its provider', () => {
    const { template } = synthPlatform('dev');
    const resources = Object.values(template.findResources('Custom::DeclaredModels'));
    expect(resources).toHaveLength(1);
    const [resource] = resources;
    expect(DECLARED_MODELS.length).toBeGreaterThan(0);
    // One JSON string, so CloudFormation cannot turn numbers and booleans into strings on the way.
    expect(typeof resource!.Properties.Specs).toBe('string');
    expect(JSON.parse(resource!.Properties.Specs)).toEqual(DECLARED_MODELS);
    expect(resource!.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DeclaredModelsProviderframeworkonEvent/), 'Arn'] });
    // The provider relays to DeclareModels, which is told the registry table.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeclaredModelsDeclareModelsFunction'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('declared in config/models'),
      Environment: { Variables: Match.objectLike({ REGISTRY_TABLE: { Ref: Match.stringLikeRegexp('^RegistryTable') } }) },
    });
  });

  it('lets its function read and write the registry table and its models\' drift schedules, nothing else', () => {
    const { template } = synthPlatform('dev');
    const actions = actionsOfRoleFor(template, 'DeclaredModelsDeclareModelsFunction');
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    // The drift schedules' grants are checked exactly in model-schedules.test.ts.
    // So are the models' dashboards and alarms' grants, in monitoring.test.ts.
    const scheduling = (a: string) => a.startsWith('scheduler:') || a === 'iam:PassRole' || a.startsWith('cloudwatch:');
    expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:') && !scheduling(a))).toEqual([]);
    for (const statement of statementsOfPoliciesFor(template, 'DeclaredModelsDeclareModelsFunction')) {
      if ([statement.Action].flat().every((a) => a.startsWith('xray:') || scheduling(a))) continue;
      expect(statement.Resource).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'Arn'] }]);
    }
    // The provider framework may only invoke (and look up) DeclareModels.
    const providerStatements = statementsOfPoliciesFor(template, 'DeclaredModelsProviderframework');
    expect(providerStatements.length).toBeGreaterThan(0);
    for (const statement of providerStatements) {
      expect([statement.Action].flat().every((a) => a === 'lambda:InvokeFunction' || a === 'lambda:GetFunction')).toBe(true);
      expect(JSON.stringify(statement.Resource)).toMatch(/DeclaredModelsDeclareModelsFunction/);
    }
  });

  it('keeps one resource under the same logical id in every environment', () => {
    // A stable logical id means a changed spec reaches the function as an Update, never as a replacement.
    const ids = (['dev', 'prod', 'local'] as const).map((env) => Object.keys(synthPlatform(env).template.findResources('Custom::DeclaredModels')));
    expect(ids[0]).toHaveLength(1);
    expect(ids[0]![0]).toMatch(/^DeclaredModels[0-9A-F]{8}$/);
    expect(new Set(ids.flat()).size).toBe(1);
  });
});

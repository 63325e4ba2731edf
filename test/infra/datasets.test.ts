import * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { UPLOADS_PREFIX } from '../../lambdas/core/data/dataset-api.js';
import { StackOutputsSchema } from '../../lambdas/contract/stack.js';
import { BATCH_ROUTES, DATASET_ROUTES, DRIFT_ROUTES, REGISTRY_ROUTES, RETRAIN_ROUTES, RUNS_ROUTES } from '../../lambdas/contract/routes.js';

const MANAGEMENT_ROUTES = [...DATASET_ROUTES, ...REGISTRY_ROUTES, ...RUNS_ROUTES, ...BATCH_ROUTES, ...DRIFT_ROUTES, ...RETRAIN_ROUTES];
import { TRANSIENT_ERRORS } from '../../lib/training-pipeline.js';
import { App } from 'aws-cdk-lib';
import { PlatformStack } from '../../lib/platform-stack.js';
import { actionsOfRoleFor, ENVIRONMENTS, stateMachineDefinition, synthPlatform } from './helpers.js';

const FIVE_GIB = 5 * 1024 ** 3;
const DYNAMODB_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** The one resource of a type whose logical id starts with a prefix, as [logicalId, resource]. */
function only(template: Template, type: string, idPrefix: string): [string, Record<string, any>] {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(idPrefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} whose logical id starts with ${idPrefix}, found ${matches.length}`);
  return matches[0]!;
}
const idOf = (template: Template, type: string, idPrefix: string) => only(template, type, idPrefix)[0];

/** `arn-of-resource + suffix` as CloudFormation spells it in a policy. */
const arnWith = (logicalId: string, suffix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, suffix]] });

interface Statement {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
}
/** The statements of the policies attached to a function's role. */
function statementsOfRoleFor(template: Template, functionIdPrefix: string): Statement[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(functionIdPrefix));
  if (policies.length === 0) throw new Error(`no policy whose logical id starts with ${functionIdPrefix}`);
  return policies.flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat();
const grants = (statement: Statement, action: string) => actionsOf(statement).includes(action);

/** The environment variables of the one function whose logical id starts with a prefix. */
const environmentOf = (template: Template, functionIdPrefix: string): Record<string, unknown> =>
  only(template, 'AWS::Lambda::Function', functionIdPrefix)[1].Properties.Environment.Variables;

/** Every method of a REST API as `METHOD /path`, the path rebuilt from the resources' ParentId chain. */
function routesOf(template: Template, restApiId: string): string[] {
  const resources = template.findResources('AWS::ApiGateway::Resource', { Properties: { RestApiId: { Ref: restApiId } } });
  const pathOf = (reference: any): string => {
    if (reference['Fn::GetAtt']) return '';
    const resource = resources[reference.Ref];
    if (!resource) throw new Error(`unknown resource ${JSON.stringify(reference)}`);
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: restApiId } } }));
  return methods.map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId) || '/'}`);
}

describe('DatasetRegistration state machine', () => {
  it('is a Standard state machine with full logging to its own log group, tracing and a timeout', () => {
    const { template } = synthPlatform('dev');
    const [, machine] = only(template, 'AWS::StepFunctions::StateMachine', 'DatasetRegistration');
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [idOf(template, 'AWS::Logs::LogGroup', 'DatasetRegistrationLogs'), 'Arn'] } } }],
      },
    });
    // Long enough for one 15-minute RegisterDataset invocation and a retry of a quick transient fault.
    expect(stateMachineDefinition(template, 'DatasetRegistration').TimeoutSeconds).toBe(3600);
  });

  it('runs Register, then ends in Rejected (error code, message as cause) for a REJECTED result and in Done otherwise', () => {
    const { template } = synthPlatform('dev');
    const definition = stateMachineDefinition(template, 'DatasetRegistration');
    expect(definition.StartAt).toBe('Register');
    expect(Object.keys(definition.States).sort()).toEqual(['Done', 'Register', 'Registered?', 'Rejected']);
    expect(definition.States.Register).toMatchObject({ Type: 'Task', Next: 'Registered?' });
    expect(definition.States['Registered?']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.status', StringEquals: 'REJECTED', Next: 'Rejected' }],
      Default: 'Done',
    });
    expect(definition.States.Rejected).toEqual({ Type: 'Fail', ErrorPath: '$.error.code', CausePath: '$.error.message' });
    expect(definition.States.Done).toEqual({ Type: 'Succeed' });
  });

  it('invokes the RegisterDataset function and retries the same transient errors as the training pipeline', () => {
    const { template } = synthPlatform('dev');
    const definition = stateMachineDefinition(template, 'DatasetRegistration');
    const retriers = definition.States.Register.Retry as { ErrorEquals: string[] }[];
    expect(retriers).toContainEqual({ ErrorEquals: [...TRANSIENT_ERRORS], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 });
    // The task's resource is the RegisterDataset function's ARN (a placeholder in the parsed definition).
    const [, machine] = only(template, 'AWS::StepFunctions::StateMachine', 'DatasetRegistration');
    const functionId = idOf(template, 'AWS::Lambda::Function', 'DatasetRegistrationRegisterDatasetFunction');
    expect(machine.Properties.DefinitionString['Fn::Join'][1]).toContainEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    expect(actionsOfRoleFor(template, 'DatasetRegistrationStateMachineRole')).toContain('lambda:InvokeFunction');
  });
});

describe('RegisterDataset function', () => {
  it('has 15 minutes, 1769 MB (one vCPU) and the tracking table, datasets bucket and size limit in its environment', () => {
    const { template } = synthPlatform('dev');
    const [, fn] = only(template, 'AWS::Lambda::Function', 'DatasetRegistrationRegisterDatasetFunction');
    expect(fn.Properties.Timeout).toBe(900);
    expect(fn.Properties.MemorySize).toBe(1769);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      TRACKING_TABLE: { Ref: idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable') },
      DATASETS_BUCKET: { Ref: idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreDatasets') },
      MAX_DATASET_BYTES: String(FIVE_GIB),
    });
  });

  it('passes the environment\'s maxDatasetBytes to both dataset functions', () => {
    const { template } = synthPlatform('dev', { maxDatasetBytes: 1073741824 });
    expect(environmentOf(template, 'DatasetRegistrationRegisterDatasetFunction').MAX_DATASET_BYTES).toBe('1073741824');
    expect(environmentOf(template, 'ManagementApiDatasetsApiFunction').MAX_DATASET_BYTES).toBe('1073741824');
  });

  it('reads and writes the datasets bucket and the tracking table, deleting only under uploads/', () => {
    const { template } = synthPlatform('dev');
    const prefix = 'DatasetRegistrationRegisterDataset';
    expect(actionsOfRoleFor(template, prefix)).toEqual(
      expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:DeleteObject*', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    const datasets = idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreDatasets');
    const statements = statementsOfRoleFor(template, prefix);
    const deletes = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:Delete')));
    expect(deletes.length).toBeGreaterThan(0);
    for (const statement of deletes) expect(resourcesOf(statement)).toEqual([arnWith(datasets, `/${UPLOADS_PREFIX}*`)]);
    // Every S3 grant is on the datasets bucket (its ARN or its objects), no other bucket.
    for (const statement of statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))) {
      for (const resource of resourcesOf(statement)) expect(JSON.stringify(resource)).toContain(`"${datasets}"`);
    }
  });
});

describe('ManagementApi', () => {
  it('is a second, regional REST API next to the serving API', () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::ApiGateway::RestApi', 2);
    const [, api] = only(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    expect(api.Properties).toMatchObject({ EndpointConfiguration: { Types: ['REGIONAL'] }, Description: expect.stringMatching(/management/) });
  });

  it('requires IAM authorization on every method of both APIs', () => {
    const { template } = synthPlatform('dev');
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThan(MANAGEMENT_ROUTES.length);
    for (const method of methods) {
      if (method.Properties.HttpMethod === 'OPTIONS') continue;
      expect(method.Properties.AuthorizationType, `${method.Properties.HttpMethod} method`).toBe('AWS_IAM');
    }
    // The management API serves the dataset, registry and runs routes, every one behind IAM.
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    const managementMethods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: management } } }));
    expect(managementMethods).toHaveLength(MANAGEMENT_ROUTES.length);
    for (const method of managementMethods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('has exactly the dataset, registry and runs routes, one method each, and no route in two lists', () => {
    const { template } = synthPlatform('dev');
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    expect(new Set(MANAGEMENT_ROUTES).size).toBe(MANAGEMENT_ROUTES.length);
    const routes = routesOf(template, management);
    expect(new Set(routes).size).toBe(routes.length);
    expect(routes.sort()).toEqual([...MANAGEMENT_ROUTES].sort());

    const pathParts = Object.values(template.findResources('AWS::ApiGateway::Resource', { Properties: { RestApiId: { Ref: management } } })).map(
      (resource) => resource.Properties.PathPart as string,
    );
    expect(new Set(pathParts)).toEqual(
      new Set([
        ...['datasets', '{name}', 'versions', 'uploads', '{version}', 'profile', 'validate', 'registrations', '{registrationId}', 'from-logs'],
        ...['models', '{model}', 'lineage', 'gate-report', 'approve', 'reject', 'aliases', '{alias}', 'rollback', 'audit', 'rollouts', 'rollout', 'abort'],
        ...['runs', '{runId}', 'compare', 'reports', '{kind}', 'imports', 'artifact', 'transfers'],
        ...['batch-jobs', '{jobId}'],
        ...['drift-checks', '{checkId}', 'report'],
        ...['triggers', 'monitor'],
        ...['events'],
      ]),
    );
  });

  for (const [routes, functionIdPrefix] of [
    [DATASET_ROUTES, 'ManagementApiDatasetsApiFunction'],
    [REGISTRY_ROUTES, 'ManagementApiRegistryApiFunction'],
    [RUNS_ROUTES, 'ManagementApiRunsApiFunction'],
    [BATCH_ROUTES, 'BatchScoringApiFunction'],
    [DRIFT_ROUTES, 'DriftCheckFunction'],
    [RETRAIN_ROUTES, 'RetrainTriggerFunction'],
  ] as const) {
    it(`proxies each of its routes to ${functionIdPrefix.replace(/^ManagementApi|Function$/g, '')}, behind IAM, with its path parameters required and POST bodies validated`, () => {
      const { template } = synthPlatform('dev');
      const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
      const handler = idOf(template, 'AWS::Lambda::Function', functionIdPrefix);
      const validator = idOf(template, 'AWS::ApiGateway::RequestValidator', 'ManagementApi');
      const model = idOf(template, 'AWS::ApiGateway::Model', 'ManagementApi');
      const resources = template.findResources('AWS::ApiGateway::Resource');
      const pathOf = (reference: any): string =>
        reference.Ref ? `${pathOf(resources[reference.Ref]!.Properties.ParentId)}/${resources[reference.Ref]!.Properties.PathPart}` : '';
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: management } } }));
      const served = methods.filter((method) => JSON.stringify(method.Properties.Integration.Uri).includes(`"${handler}"`));
      // Exactly its routes go to this function, one method each.
      expect(served.map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`).sort()).toEqual([...routes].sort());
      for (const method of served) {
        const route = `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`;
        expect(method.Properties.Integration, route).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
        expect(method.Properties.AuthorizationType, route).toBe('AWS_IAM');
        expect(method.Properties.RequestValidatorId, route).toEqual({ Ref: validator });
        if (['POST', 'PUT'].includes(method.Properties.HttpMethod)) expect(method.Properties.RequestModels, route).toEqual({ 'application/json': { Ref: model } });
        // Every {param} on the way from the root is a required request parameter.
        const params: string[] = [];
        for (let reference = method.Properties.ResourceId; reference.Ref; reference = resources[reference.Ref]!.Properties.ParentId) {
          const part = resources[reference.Ref]!.Properties.PathPart as string;
          if (part.startsWith('{')) params.push(`method.request.path.${part.slice(1, -1)}`);
        }
        expect(params.length > 0, `${route} has a path parameter`).toBe(route.includes('{'));
        expect(method.Properties.RequestParameters ?? {}, route).toEqual(Object.fromEntries(params.map((name) => [name, true])));
      }
    });
  }

  it('validates that every POST and PUT body is a JSON object', () => {
    const { template } = synthPlatform('dev');
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    const [validatorId, validator] = only(template, 'AWS::ApiGateway::RequestValidator', 'ManagementApi');
    expect(validator.Properties).toMatchObject({ RestApiId: { Ref: management }, ValidateRequestBody: true, ValidateRequestParameters: true });
    const [modelId, model] = only(template, 'AWS::ApiGateway::Model', 'ManagementApi');
    expect(model.Properties).toMatchObject({ RestApiId: { Ref: management }, ContentType: 'application/json', Schema: { type: 'object' } });

    // Every function's POSTs and PUTs: the dataset routes', the registry's (PUT model, approve, reject, aliases, rollback), the runs'.
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { RestApiId: { Ref: management } } }));
    const withBody = methods.filter((method) => ['POST', 'PUT'].includes(method.Properties.HttpMethod));
    const bodyRoutes = MANAGEMENT_ROUTES.filter((route) => /^(POST|PUT) /.test(route));
    expect(REGISTRY_ROUTES).toContain('PUT /models/{model}');
    expect(withBody).toHaveLength(bodyRoutes.length);
    for (const method of withBody) {
      expect(method.Properties.RequestValidatorId).toEqual({ Ref: validatorId });
      expect(method.Properties.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    }
  });

  it('throttles (20 rps, burst 40), traces and access-logs its stage', () => {
    const { template } = synthPlatform('dev');
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: { Ref: management },
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [idOf(template, 'AWS::Logs::LogGroup', 'ManagementApiRestAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('requestId'),
      },
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })],
    });
  });

  it('takes its throttle from the environment: raised for local, whose emulator enforces it', () => {
    const throttleOf = (template: Template) => {
      const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
      const [, stage] = Object.entries(template.findResources('AWS::ApiGateway::Stage')).find(([, s]) => s.Properties.RestApiId.Ref === management)!;
      const { ThrottlingRateLimit, ThrottlingBurstLimit } = stage.Properties.MethodSettings[0];
      return { rateLimit: ThrottlingRateLimit, burstLimit: ThrottlingBurstLimit };
    };
    for (const environment of ['dev', 'staging', 'prod'] as const) expect(throttleOf(synthPlatform(environment).template), environment).toEqual({ rateLimit: 20, burstLimit: 40 });
    expect(throttleOf(synthPlatform('local').template)).toEqual({ rateLimit: 500, burstLimit: 1000 });
    expect(throttleOf(synthPlatform('dev', { managementApiThrottle: { rateLimit: 7, burstLimit: 9 } }).template)).toEqual({ rateLimit: 7, burstLimit: 9 });
  });

  it('grants invoke per route: execute-api ARNs on its stage, path parameters as *', () => {
    const stack = new PlatformStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Mlops-dev', {
      environmentName: 'dev',
      config: ENVIRONMENTS.dev!,
      models: [],
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const approver = new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() });

    stack.management.grantInvoke(approver, ['POST /models/{model}/versions/{version}/approve', 'GET /models']);

    const template = Template.fromStack(stack);
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    const [, policy] = only(template, 'AWS::IAM::Policy', 'ApproverDefaultPolicy');
    const arn = (tail: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:eu-west-1:123456789012:', { Ref: management }, '/', { Ref: expect.stringMatching(/^ManagementApiRestApiDeploymentStage/) }, tail]],
    });
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [arn('/POST/models/*/versions/*/approve'), arn('/GET/models')] },
    ]);
  });

  it('answers API Gateway errors with the platform\'s JSON error shape', () => {
    const { template } = synthPlatform('dev');
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse', { Properties: { RestApiId: { Ref: management } } }));
    const byType = Object.fromEntries(responses.map((r) => [r.Properties.ResponseType, r.Properties]));
    const expected: [string, string, string][] = [
      ['BAD_REQUEST_BODY', '400', 'INVALID_REQUEST'],
      ['BAD_REQUEST_PARAMETERS', '400', 'INVALID_REQUEST'],
      ['MISSING_AUTHENTICATION_TOKEN', '403', 'UNAUTHENTICATED'],
      ['ACCESS_DENIED', '403', 'ACCESS_DENIED'],
      ['THROTTLED', '429', 'THROTTLED'],
      ['REQUEST_TOO_LARGE', '413', 'REQUEST_TOO_LARGE'],
    ];
    for (const [type, status, code] of expected) {
      expect(byType[type], type).toMatchObject({ StatusCode: status });
      const body = byType[type].ResponseTemplates['application/json'] as string;
      // $context.error.messageString arrives already quoted; substitute a quoted string to read the body as JSON.
      expect(JSON.parse(body.replace('$context.error.messageString', '"m"').replace('$context.error.validationErrorString', 'v'))).toEqual({
        error: { code, message: 'm', details: 'v' },
      });
    }
  });
});

describe('DatasetsApi function', () => {
  it('has 29 seconds (API Gateway\'s limit) and the registration state machine and size limit in its environment', () => {
    const { template } = synthPlatform('dev');
    const [, fn] = only(template, 'AWS::Lambda::Function', 'ManagementApiDatasetsApiFunction');
    expect(fn.Properties.Timeout).toBe(29);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      REGISTRATION_STATE_MACHINE_ARN: { Ref: idOf(template, 'AWS::StepFunctions::StateMachine', 'DatasetRegistration') },
      MAX_DATASET_BYTES: String(FIVE_GIB),
      TRACKING_TABLE: { Ref: idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable') },
      REGISTRY_TABLE: { Ref: idOf(template, 'AWS::DynamoDB::Table', 'RegistryTable') },
      DATASETS_BUCKET: { Ref: idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreDatasets') },
      REPORTS_BUCKET: { Ref: idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreReports') },
    });
  });

  it('may start registrations and describe their executions, on the registration state machine only', () => {
    const { template } = synthPlatform('dev');
    const machine = idOf(template, 'AWS::StepFunctions::StateMachine', 'DatasetRegistration');
    const statements = statementsOfRoleFor(template, 'ManagementApiDatasetsApi');
    const starts = statements.filter((s) => grants(s, 'states:StartExecution'));
    expect(starts.length).toBeGreaterThan(0);
    for (const statement of starts) expect(resourcesOf(statement)).toEqual([{ Ref: machine }]);
    const describes = statements.filter((s) => grants(s, 'states:DescribeExecution'));
    expect(describes.length).toBeGreaterThan(0);
    for (const statement of describes) {
      const [resource] = resourcesOf(statement) as [any];
      expect(resourcesOf(statement)).toHaveLength(1);
      const parts = resource['Fn::Join'][1] as unknown[];
      // arn:<partition>:states:<region>:<account>:execution:<name of the registration machine>:*
      expect(parts).toContainEqual({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: machine }] }] });
      expect(parts.filter((p) => typeof p === 'string').join('')).toMatch(/:states:eu-west-1:123456789012:execution:/);
      expect(parts.at(-1)).toBe(':*');
    }
  });

  it('may put objects only under uploads/ of the datasets bucket and in the reports bucket', () => {
    const { template } = synthPlatform('dev');
    const datasets = idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreDatasets');
    const reports = idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreReports');
    const puts = statementsOfRoleFor(template, 'ManagementApiDatasetsApi').filter((s) => actionsOf(s).some((a) => a.startsWith('s3:Put') || a === 's3:*'));
    const resources = puts.flatMap(resourcesOf);
    expect(resources).toEqual(expect.arrayContaining([arnWith(datasets, `/${UPLOADS_PREFIX}*`), arnWith(reports, '/*')]));
    for (const resource of resources) expect([arnWith(datasets, `/${UPLOADS_PREFIX}*`), arnWith(reports, '/*')]).toContainEqual(resource);
  });

  it('may not write the tracking table: dataset records are written by the registration function only', () => {
    const { template } = synthPlatform('dev');
    const tracking = idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable');
    const prefix = 'ManagementApiDatasetsApi';
    const actions = actionsOfRoleFor(template, prefix);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.filter((a) => DYNAMODB_WRITES.includes(a) || a === 'dynamodb:*')).toEqual([]);
    const onTracking = statementsOfRoleFor(template, prefix).filter((s) => JSON.stringify(s.Resource).includes(`"${tracking}"`));
    expect(onTracking.length).toBeGreaterThan(0);
    for (const statement of onTracking) expect(actionsOf(statement).filter((a) => DYNAMODB_WRITES.includes(a))).toEqual([]);
  });
});

describe('Datasets bucket lifecycle', () => {
  it('clears abandoned uploads and incomplete multipart uploads after a day, on the datasets bucket only', () => {
    const { template } = synthPlatform('dev');
    const [datasetsId, datasets] = only(template, 'AWS::S3::Bucket', 'ArtifactStoreDatasets');
    const rules = datasets.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    // The bucket is versioned, so a deleted or expired upload lingers as a noncurrent version: that goes after a day too.
    expect(rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', Prefix: UPLOADS_PREFIX, ExpirationInDays: 1, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }));
    // The uploads rule is scoped: no datasets-bucket rule expires registered datasets or profiles.
    for (const rule of rules.filter((r) => r.ExpirationInDays !== undefined)) expect(rule.Prefix).toBe(UPLOADS_PREFIX);

    for (const [id, bucket] of Object.entries(template.findResources('AWS::S3::Bucket'))) {
      if (id === datasetsId) continue;
      const otherRules = (bucket.Properties.LifecycleConfiguration?.Rules ?? []) as Record<string, unknown>[];
      expect(otherRules.filter((r) => r.Prefix === UPLOADS_PREFIX || r.AbortIncompleteMultipartUpload), id).toEqual([]);
    }
  });
});

describe('PlatformStack dataset outputs', () => {
  it('outputs the management API and the registration state machine for the CLI', () => {
    const { template } = synthPlatform('dev');
    const outputs = template.findOutputs('*');
    const management = idOf(template, 'AWS::ApiGateway::RestApi', 'ManagementApi');
    const stage = idOf(template, 'AWS::ApiGateway::Stage', 'ManagementApi');
    expect(outputs.ManagementApiId?.Value).toEqual({ Ref: management });
    expect(outputs.ManagementApiStage?.Value).toEqual({ Ref: stage });
    expect(outputs.ManagementApiUrl?.Value['Fn::Join'][1]).toEqual(expect.arrayContaining([{ Ref: management }, { Ref: stage }]));
    expect(outputs.DatasetRegistrationArn?.Value).toEqual({ Ref: idOf(template, 'AWS::StepFunctions::StateMachine', 'DatasetRegistration') });
    // The CLI reads the stack through StackOutputsSchema: it expects exactly the outputs the stack declares
    // (besides the endpoint outputs CDK adds for each REST API).
    expect(Object.keys(outputs).filter((name) => !/RestApiEndpoint[0-9A-F]{8}$/.test(name)).sort()).toEqual(
      Object.keys(StackOutputsSchema.shape).sort(),
    );
  });
});

describe('API Gateway account settings', () => {
  it('declares the account-wide logging role once, and the management stage waits for it', () => {
    const { template } = synthPlatform('dev');
    const accounts = template.findResources('AWS::ApiGateway::Account');
    expect(Object.keys(accounts)).toHaveLength(1);
    const [accountId] = Object.keys(accounts);
    const stages = Object.entries(template.findResources('AWS::ApiGateway::Stage', {}, ));
    const management = stages.find(([id]) => id.startsWith('ManagementApi'));
    expect(management).toBeDefined();
    expect(management![1].DependsOn).toEqual(expect.arrayContaining([accountId]));
  });
});

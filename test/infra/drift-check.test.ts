import { describe, expect, it } from 'vitest';
import { DRIFT_ROUTES } from '../../lambdas/contract/routes.js';
import { ENVIRONMENTS, actionsOfRoleFor, statementsOfPoliciesFor, synthPlatform, TABLE_READ_ACTIONS } from './helpers.js';

const functionOf = (template: ReturnType<typeof synthPlatform>['template']) => {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('DriftCheck'));
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('the DriftCheck function', () => {
  it('gets the registry, the log and reports buckets and the environment log buffer, and stays under API Gateway 29 s', () => {
    for (const environment of ['local', 'dev', 'prod'] as const) {
      const { template } = synthPlatform(environment);
      const [, fn] = functionOf(template);
      const variables = fn.Properties.Environment.Variables;
      expect(Object.keys(variables).sort()).toEqual([
        // ENVIRONMENT_NAME: the metric dimension and the alarm names; RETRAIN_TRIGGER_FUNCTION_ARN: a drifted check is handed to the guardrails.
        'ENVIRONMENT_NAME',
        'LOG_BUFFER_SECONDS',
        'NODE_OPTIONS',
        'PREDICTION_LOGS_BUCKET',
        'REGISTRY_TABLE',
        'REPORTS_BUCKET',
        'RETRAIN_TRIGGER_FUNCTION_ARN',
      ]);
      // Readers wait 1.5 times the buffer: AWS's bound on a dynamically partitioned record's delay.
      expect(variables.LOG_BUFFER_SECONDS).toBe(String(Math.ceil(ENVIRONMENTS[environment]!.serving.logBufferSeconds * 1.5)));
      expect(fn.Properties.Timeout).toBe(29);
      expect(fn.Properties.MemorySize).toBe(1024);
      // Versions stored before reference samples are scored at check time, imported (ONNX) ones too.
      expect(fn.Properties.Layers).toHaveLength(1);
    }
  });

  it('grants exactly: registry reads and one put, reads of models/, datasets/, predictions/ and feedback/, reads and writes of drift-checks/ only', () => {
    const { template } = synthPlatform('dev');
    const [id] = functionOf(template);
    const policyPrefix = id.replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRoleDefaultPolicy');
    expect(actionsOfRoleFor(template, 'DriftCheckFunction')).toEqual(
      [
        ...TABLE_READ_ACTIONS,
        // The check's scores (namespace serverless-mlops only: test/infra/monitoring.test.ts) and the hand-over to the retraining guardrails.
        'cloudwatch:PutMetricData',
        'lambda:InvokeFunction',
        'dynamodb:PutItem',
        's3:Abort*',
        's3:GetBucket*',
        's3:GetObject*',
        's3:List*',
        's3:PutObject',
        's3:PutObjectLegalHold',
        's3:PutObjectRetention',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const statements = statementsOfPoliciesFor(template, policyPrefix.slice(0, 20));
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    const text = JSON.stringify(s3.map((s) => s.Resource));
    // The log's predictions and, for the performance window, its feedback labels.
    for (const prefix of ['/models/*', '/datasets/*', '/predictions/*', '/feedback/*', '/drift-checks/*']) expect(text).toContain(prefix);
    // It writes only under drift-checks/ of the reports bucket.
    const puts = s3.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put')));
    expect(puts.length).toBeGreaterThan(0);
    for (const statement of puts) expect(JSON.stringify(statement.Resource)).toMatch(/^[^*]*\/drift-checks\/\*[^*]*$/);
    // No S3 object or DynamoDB write beyond its own records; no Step Functions, no Firehose.
    expect(actionsOfRoleFor(template, 'DriftCheckFunction').some((a) => /^(states|firehose|sns):|dynamodb:(UpdateItem|DeleteItem|BatchWriteItem)/.test(a))).toBe(false);
  });

  it('serves exactly the drift routes on the management API, IAM-authorized', () => {
    const { template } = synthPlatform('dev');
    const [id] = functionOf(template);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((method) => JSON.stringify(method.Properties.Integration ?? {}).includes(id));
    expect(methods).toHaveLength(DRIFT_ROUTES.length);
    expect(methods.map((method) => method.Properties.HttpMethod).sort()).toEqual(DRIFT_ROUTES.map((route) => route.split(' ')[0]).sort());
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });
});

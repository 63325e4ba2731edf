import { describe, expect, it } from 'vitest';
import { RUNS_ROUTES } from '../../lambdas/contract/routes.js';
import { actionsOfRoleFor, idOf, routesOf, statementsOfPoliciesFor, synthPlatform, TABLE_READ_ACTIONS } from './helpers.js';

const PREFIX = 'ManagementApiRunsApi';

describe('RunsApi function', () => {
  const { template } = synthPlatform('dev');
  const statements = statementsOfPoliciesFor(template, PREFIX);
  const granting = (action: string) => statements.filter((statement) => [statement.Action].flat().includes(action));
  const pipeline = idOf(template, 'AWS::StepFunctions::StateMachine', 'TrainingPipeline');

  it('serves exactly the runs routes, behind IAM', () => {
    expect(routesOf(template, `${PREFIX}Function`)).toEqual([...RUNS_ROUTES].sort());
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((m) => JSON.stringify(m.Properties.Integration?.Uri ?? '').includes(idOf(template, 'AWS::Lambda::Function', `${PREFIX}Function`)));
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('has exactly these IAM actions: reads of the tables, start and read of pipeline executions, model file reads and upload puts, report and dataset reads', () => {
    const actions = actionsOfRoleFor(template, PREFIX).filter((action) => !action.startsWith('xray:') && !action.startsWith('logs:'));
    expect(actions).toEqual(
      [
        ...TABLE_READ_ACTIONS,
        's3:Abort*',
        's3:GetBucket*',
        's3:GetObject*',
        's3:List*',
        's3:PutObject',
        's3:PutObjectLegalHold',
        's3:PutObjectRetention',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:StartExecution',
      ].sort(),
    );
  });

  it('writes no table: runs are recorded by the pipeline\'s StartRun step', () => {
    const writes = actionsOfRoleFor(template, PREFIX).filter((action) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action));
    expect(writes).toEqual([]);
  });

  it('starts executions of the training pipeline only, and reads only its executions', () => {
    const starts = granting('states:StartExecution');
    expect(starts.length).toBeGreaterThan(0);
    for (const statement of starts) expect([statement.Resource].flat()).toEqual([{ Ref: pipeline }]);
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory']) {
      for (const statement of granting(action)) expect(JSON.stringify(statement.Resource)).toMatch(/:execution:/);
    }
  });

  it('puts objects only under the models bucket\'s imports/ and transfers/ keys (the presigned PUTs it hands out)', () => {
    const models = idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreModels');
    const puts = granting('s3:PutObject');
    expect(puts.length).toBe(2);
    const resources = puts.map((statement) => JSON.stringify(statement.Resource)).sort();
    expect(resources[0]).toContain(models);
    expect(resources[0]).toContain('/models/*/imports/*');
    expect(resources[1]).toContain('/models/*/transfers/*');
  });

  it('carries the ONNX runtime layer and the pipeline and models bucket in its environment', () => {
    const [, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(`${PREFIX}Function`))!;
    expect(fn.Properties.Layers).toHaveLength(1);
    expect(fn.Properties.Timeout).toBe(29);
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['MODELS_BUCKET', 'NODE_OPTIONS', 'REGISTRY_TABLE', 'TRACKING_TABLE', 'TRAINING_PIPELINE_ARN']);
  });
});

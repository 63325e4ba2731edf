import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { BATCH_ROUTES } from '../../lambdas/contract/routes.js';
import { actionsOfRoleFor, stateMachineDefinition, statementsOfPoliciesFor, synthPlatform, TABLE_READ_ACTIONS } from './helpers.js';

type Synth = ReturnType<typeof synthPlatform>;

/** The routes API Gateway sends to a function whose logical id starts with `prefix`. */
function routesOf(template: Template, prefix: string): string[] {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const resource = resources[id];
    if (!resource) return '';
    const parent = resource.Properties.ParentId as { Ref?: string };
    return `${parent.Ref && resources[parent.Ref] ? pathOf(parent.Ref) : ''}/${resource.Properties.PathPart}`;
  };
  return Object.values(template.findResources('AWS::ApiGateway::Method'))
    .filter((method) => JSON.stringify(method.Properties.Integration ?? {}).includes(prefix))
    .map((method) => `${method.Properties.HttpMethod} ${pathOf((method.Properties.ResourceId as { Ref: string }).Ref)}`)
    .sort();
}

describe('batch scoring construct', () => {
  let local: Synth;
  let prod: Synth;
  beforeAll(() => {
    local = synthPlatform('local');
    prod = synthPlatform('prod');
  });

  it('scores chunks in a DISTRIBUTED Map whose S3 ItemReader reads the JSON manifest Prepare wrote, one definition for every environment', () => {
    const definition = stateMachineDefinition(local.template, 'BatchScoring');
    const map = definition.States.ScoreChunks;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemReader).toEqual({
      Resource: 'arn:TOKEN:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.job.bucket', 'Key.$': '$.prepared.manifestKey' },
    });
    // No ItemBatcher and no ResultWriter (the emulator ignores both): results are discarded, parts go to S3.
    expect(map.ItemBatcher).toBeUndefined();
    expect(map.ResultWriter).toBeUndefined();
    expect(map.ResultPath).toBeNull();
    expect(map.ItemSelector).toEqual({ 'job.$': '$.job', 'chunk.$': '$$.Map.Item.Value' });
    expect(map.MaxConcurrency).toBe(10);
    expect(Object.keys(definition.States).sort()).toEqual(['Done', 'FinishJob', 'InputRefused', 'PrepareInput', 'Prepared?', 'ScoreChunks', 'TooManyBadRows', 'WithinErrorRate?']);
    expect(definition.States.TooManyBadRows).toEqual({ Type: 'Fail', ErrorPath: '$.result.error.code', CausePath: '$.result.error.message' });
    expect(stateMachineDefinition(prod.template, 'BatchScoring')).toEqual(definition);
  });

  it('routes BATCH_ROUTES to the batch API function', () => {
    expect(routesOf(local.template, 'BatchScoringApiFunction')).toEqual([...BATCH_ROUTES].sort());
  });

  it('grants each function exactly the actions it needs', () => {
    const { template } = local;
    const s3Read = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];
    const s3Put = ['s3:Abort*', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'];
    const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    for (const step of ['Prepare', 'ScoreChunk', 'Finish']) {
      expect(actionsOfRoleFor(template, `BatchScoring${step}FunctionServiceRole`), step).toEqual([...s3Read, ...s3Put, ...xray].sort());
    }
    expect(actionsOfRoleFor(template, 'BatchScoringApiFunctionServiceRole')).toEqual(
      [...TABLE_READ_ACTIONS, 'states:DescribeExecution', 'states:GetExecutionHistory', 'states:StartExecution', ...s3Read, ...s3Put, ...xray].sort(),
    );
    // The Finish step writes under batch-jobs/ only; it reads no model file.
    const finish = JSON.stringify(statementsOfPoliciesFor(template, 'BatchScoringFinishFunctionServiceRole'));
    expect(finish).toContain('/batch-jobs/*');
    expect(finish).not.toContain('ArtifactStoreModels');
    // The API's presigned PUTs carry its permission: uploads only.
    const apiPuts = statementsOfPoliciesFor(template, 'BatchScoringApiFunctionServiceRole').filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(apiPuts)).toContain('/batch-jobs/uploads/*');
    expect(apiPuts).toHaveLength(1);
    // The state machine: invoke its three functions, read the manifest, run its own child executions.
    const machine = [
      ...actionsOfRoleFor(template, 'BatchScoringStateMachineRole'),
      ...actionsOfRoleFor(template, 'BatchScoringStateMachineDistributedMapPolicy'),
    ];
    expect(machine.filter((action) => !/^(logs|xray):/.test(action)).sort()).toEqual(['lambda:InvokeFunction', 's3:GetObject', 'states:DescribeExecution', 'states:RedriveExecution', 'states:StartExecution', 'states:StopExecution']);
    const manifestRead = statementsOfPoliciesFor(template, 'BatchScoringStateMachineRole').find((s) => s.Action === 's3:GetObject');
    expect(JSON.stringify(manifestRead?.Resource)).toContain('/batch-jobs/*');
  });

  it('passes cdk-nag (AwsSolutions and Serverless) with no unacknowledged finding on its resources', () => {
    for (const { stack } of [local, prod]) {
      for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
        const report = new Pack(stack).validateScope(stack);
        const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`)).filter((line) => line.includes('BatchScoring'));
        expect(findings).toEqual([]);
      }
    }
  });
});

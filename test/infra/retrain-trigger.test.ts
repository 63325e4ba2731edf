import { describe, expect, it } from 'vitest';
import { RETRAIN_ROUTES } from '../../lambdas/contract/routes.js';
import { actionsOfRoleFor, idOf, routesOf, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

const PREFIX = 'RetrainTriggerFunction';

describe('RetrainTrigger (the retraining guardrails)', () => {
  const { template } = synthPlatform('dev');
  const fn = idOf(template, 'AWS::Lambda::Function', PREFIX);
  const statements = statementsOfPoliciesFor(template, PREFIX);
  const granting = (action: string) => statements.filter((statement) => [statement.Action].flat().includes(action));

  it('serves exactly RETRAIN_ROUTES, behind IAM', () => {
    expect(routesOf(template, PREFIX)).toEqual([...RETRAIN_ROUTES].sort());
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((m) => JSON.stringify(m.Properties.Integration?.Uri ?? '').includes(`"${fn}"`));
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('starts executions of the training pipeline only, publishes to the alerts topic only, and lists alarms', () => {
    const pipeline = idOf(template, 'AWS::StepFunctions::StateMachine', 'TrainingPipeline');
    expect(granting('states:StartExecution').map((s) => s.Resource)).toEqual([{ Ref: pipeline }]);
    expect(granting('sns:Publish').map((s) => s.Resource)).toEqual([{ Ref: idOf(template, 'AWS::SNS::Topic', 'AlertsTopic') }]);
    expect(granting('cloudwatch:DescribeAlarms').map((s) => s.Resource)).toEqual(['*']);
    const actions = actionsOfRoleFor(template, PREFIX);
    // It writes the registry table's lock and decisions with PutItem only: no updates, no deletes there.
    const registryWrites = statements
      .filter((s) => JSON.stringify(s.Resource).includes('RegistryTable'))
      .flatMap((s) => [s.Action].flat())
      .filter((a) => /dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/.test(a));
    expect(registryWrites).toEqual(['dynamodb:PutItem']);
    expect(actions.filter((a) => a.startsWith('lambda:') || a.startsWith('scheduler:'))).toEqual([]);
  });

  it('is told its tables, pipeline, topic, buckets and environment', () => {
    const variables = template.findResources('AWS::Lambda::Function')[fn]!.Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(
      expect.arrayContaining(['ALERT_TOPIC_ARN', 'DATASETS_BUCKET', 'ENVIRONMENT_NAME', 'LOG_BUFFER_SECONDS', 'MAX_DATASET_BYTES', 'PREDICTION_LOGS_BUCKET', 'REGISTRY_TABLE', 'TRACKING_TABLE', 'TRAINING_PIPELINE_ARN']),
    );
    expect(variables.ENVIRONMENT_NAME).toBe('dev');
  });

  it('lets DriftCheck hand a model over (invoke this function, by its unqualified ARN, and nothing else)', () => {
    const drift = idOf(template, 'AWS::Lambda::Function', 'DriftCheckFunction');
    expect(template.findResources('AWS::Lambda::Function')[drift]!.Properties.Environment.Variables.RETRAIN_TRIGGER_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [fn, 'Arn'] });
    const invokes = statementsOfPoliciesFor(template, 'DriftCheckFunction').filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [fn, 'Arn'] }]);
  });
});

import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { statementsOfPoliciesFor, synthPlatform } from './helpers.js';

const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** The statements that mention Scheduler or PassRole, with their resources as the template spells them. */
function scheduleStatements(template: ReturnType<typeof synthPlatform>['template'], policyPrefix: string) {
  return statementsOfPoliciesFor(template, policyPrefix)
    .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('scheduler:') || action === 'iam:PassRole'))
    .map((statement) => ({ Action: [statement.Action].flat().sort(), Resource: JSON.stringify(statement.Resource) }));
}

describe('platform-managed model schedules (drift checks and retraining)', () => {
  it('creates one schedule group and no schedules: those are made per model at run time', () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('gives Scheduler a role, assumable by Scheduler for this account only, that invokes DriftCheck and the retraining guardrails and nothing else', () => {
    const { stack, template } = synthPlatform('dev');
    const roleId = logicalIdOf(stack, stack.modelSchedules.role);
    const role = template.findResources('AWS::IAM::Role')[roleId]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
    ]);
    const arnOf = (fn: { function: { node: { defaultChild?: unknown } } }) => ({ 'Fn::GetAtt': [logicalIdOf(stack, fn.function), 'Arn'] });
    // Retraining schedules target the guardrail function, never the pipeline: every automatic run passes the guardrails.
    expect(statementsOfPoliciesFor(template, roleId.replace(/[0-9A-F]{8}$/, 'DefaultPolicy'))).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [arnOf(stack.driftCheck.function), arnOf(stack.retrainTrigger.function)] },
    ]);
  });

  it('lets the registry API and DeclareModels create, update and delete schedules in the group only, and pass that role only', () => {
    for (const environment of ['dev', 'local'] as const) {
      const { stack, template } = synthPlatform(environment);
      const group = stack.modelSchedules.group.scheduleGroupName;
      const roleId = logicalIdOf(stack, stack.modelSchedules.role);
      const inGroup = JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:${stack.region}:${stack.account}:schedule/${group}/*`]] });
      const expected = [
        { Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], Resource: inGroup },
        { Action: ['scheduler:DeleteSchedule'], Resource: inGroup },
        { Action: ['iam:PassRole'], Resource: JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] }) },
        // The emulator checks every schedule as schedule/default/<name>, whatever its group (local only).
        ...(environment === 'local'
          ? [
              {
                Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'],
                Resource: JSON.stringify(
                  ['drift', 'retrain'].map((kind) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:${stack.region}:${stack.account}:schedule/default/${kind}-*`]] })),
                ),
              },
            ]
          : []),
      ];
      for (const fn of [stack.management.registryHandler, stack.declaredModels.handler]) {
        const fnId = logicalIdOf(stack, fn.function);
        expect(scheduleStatements(template, fnId.replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRoleDefaultPolicy'))).toEqual(expected);
        const variables = template.findResources('AWS::Lambda::Function')[fnId]!.Properties.Environment.Variables;
        expect(variables).toMatchObject({
          MODEL_SCHEDULE_GROUP: group,
          DRIFT_CHECK_FUNCTION_ARN: { 'Fn::GetAtt': [logicalIdOf(stack, stack.driftCheck.function.function), 'Arn'] },
          RETRAIN_TRIGGER_FUNCTION_ARN: { 'Fn::GetAtt': [logicalIdOf(stack, stack.retrainTrigger.function.function), 'Arn'] },
          MODEL_SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
        });
      }
      // No other function may touch schedules.
      const managers = new Set([stack.management.registryHandler, stack.declaredModels.handler].map((fn) => logicalIdOf(stack, fn.function).replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRoleDefaultPolicy')));
      const others = Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => ![...managers].some((prefix) => id.startsWith(prefix)));
      expect(others.filter((id) => scheduleStatements(template, id).length > 0)).toEqual([]);
    }
  });
});

describe('retraining schedules are no longer EventBridge rules', () => {
  it('deploys no rule and no dead-letter queue for declared models: their retraining schedule is put at deploy by DeclareModels like any other', () => {
    const { template } = synthPlatform('dev');
    template.resourceCountIs('AWS::Events::Rule', 0);
    // The one queue is the registry events' dead letters (registry-events.test.ts), not a schedule's.
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatch(/^RegistryEventsDeadLetters/);
  });
});

import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, actionsOfRoleFor, nameIntrinsic, stateMachineDefinition, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

/** The rollout state machine's definition, resources named by logical id. */
const definitionOf = (template: ReturnType<typeof synthPlatform>['template']) => stateMachineDefinition(template, 'Rollout', nameIntrinsic);

describe('the rollout state machine', () => {
  it('gates through the release path, bakes each step for bake + the log buffer, checks, and promotes through the release path', () => {
    const { template } = synthPlatform('dev');
    const { StartAt, States } = definitionOf(template);
    expect(StartAt).toBe('Gate');
    expect(Object.keys(States).sort()).toEqual(['Bake', 'Begin', 'Check', 'Ended', 'Fail', 'Failed', 'Finish', 'Gate', 'Next?', 'Promote'].sort());
    // Gate and Promote run the training pipeline (the release path) and wait for it, under the run id they are given.
    for (const name of ['Gate', 'Promote']) {
      expect(States[name].Resource).toMatch(/:states:::states:startExecution\.sync:2$/);
      expect(States[name].Parameters).toEqual({
        StateMachineArn: expect.stringMatching(/^<TrainingPipelineStateMachine\w+>$/),
        'Input.$': name === 'Gate' ? '$.gate.input' : '$.promote.input',
        'Name.$': name === 'Gate' ? '$.gate.name' : '$.promote.name',
      });
      expect(States[name].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Fail' })]);
    }
    expect(States.Gate.Next).toBe('Begin');
    expect(States.Promote.Next).toBe('Finish');
    // The wait is the step's own: bake (from the spec or the rollout's overrides) + LOG_BUFFER_SECONDS, answered by the step.
    expect(States.Bake).toEqual({ Type: 'Wait', SecondsPath: '$.progress.waitSeconds', Next: 'Check' });
    expect(States.Check.Next).toBe('Next?');
    expect(States['Next?'].Choices).toEqual([
      { Variable: '$.progress.next', StringEquals: 'bake', Next: 'Bake' },
      { Variable: '$.progress.next', StringEquals: 'promote', Next: 'Promote' },
    ]);
    expect(States['Next?'].Default).toBe('Ended');
    for (const name of ['Begin', 'Check', 'Finish']) expect(States[name].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Fail' })]);
    // Payloads stay small: the steps get the model and the rollout id, the record is the state.
    expect(States.Check.Parameters).toEqual({ 'model.$': '$.model', 'rolloutId.$': '$.rolloutId' });
  });

  it('hands every step the environment log buffer, and the check the logs and reports buckets', () => {
    for (const environment of ['local', 'dev'] as const) {
      const { template } = synthPlatform(environment);
      const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('Rollout'));
      expect(functions, environment).toHaveLength(2);
      // Readers wait 1.5 times the buffer: AWS's bound on a dynamically partitioned record's delay.
      for (const [, fn] of functions) expect(fn.Properties.Environment.Variables.LOG_BUFFER_SECONDS).toBe(String(Math.ceil(ENVIRONMENTS[environment]!.serving.logBufferSeconds * 1.5)));
      const check = functions.find(([id]) => id.startsWith('RolloutRolloutCheck'))![1];
      expect(Object.keys(check.Properties.Environment.Variables).sort()).toEqual(['LOG_BUFFER_SECONDS', 'NODE_OPTIONS', 'PREDICTION_LOGS_BUCKET', 'REGISTRY_TABLE', 'REPORTS_BUCKET']);
    }
    // A buffer setting reaches the readers with its allowance.
    const { template } = synthPlatform('dev', { serving: { ...ENVIRONMENTS.dev!.serving, logBufferSeconds: 300 } });
    const step = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('RolloutRolloutStep'))![1];
    expect(step.Properties.Environment.Variables.LOG_BUFFER_SECONDS).toBe('450');
  });

  it('grants least privilege: the check reads the log prefixes and writes rollout reports; the step only the registry', () => {
    const { template } = synthPlatform('dev');
    expect(actionsOfRoleFor(template, 'RolloutRolloutStep')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']),
    );
    expect(actionsOfRoleFor(template, 'RolloutRolloutStep').some((action) => action.startsWith('s3:'))).toBe(false);
    const check = statementsOfPoliciesFor(template, 'RolloutRolloutCheck');
    const s3Resources = check.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:'))).flatMap((s) => [s.Resource].flat());
    const resourceText = JSON.stringify(s3Resources);
    expect(resourceText).toContain('/predictions/*');
    expect(resourceText).toContain('/feedback/*');
    expect(resourceText).toContain('/rollouts/*');
    // It writes only under rollouts/ of the reports bucket.
    const puts = check.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put')));
    expect(puts.length).toBeGreaterThan(0);
    for (const statement of puts) expect(JSON.stringify(statement.Resource)).toMatch(/^[^*]*\/rollouts\/\*[^*]*$/);
    // The state machine starts and stops the pipeline's executions (.sync), and invokes its two functions.
    const machine = actionsOfRoleFor(template, 'RolloutStateMachineRole');
    expect(machine).toEqual(expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution', 'states:StopExecution', 'lambda:InvokeFunction']));
    // The registry API starts, reads and stops rollouts.
    expect(actionsOfRoleFor(template, 'ManagementApiRegistryApi')).toEqual(expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution', 'states:StopExecution']));
    const registryFn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ManagementApiRegistryApi'))![1];
    expect(registryFn.Properties.Environment.Variables.ROLLOUT_STATE_MACHINE_ARN).toBeDefined();
  });
});

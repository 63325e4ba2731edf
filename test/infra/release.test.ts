import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../lib/config.js';
import { TRANSIENT_ERRORS } from '../../lib/training-pipeline.js';
import { actionsOfRoleFor, ENVIRONMENTS, nameIntrinsic, stateMachineDefinition, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

// The release path at synth level: Register -> Release? -> ApprovalRequired? -> WaitForApproval (a task
// token, answered through the RegistryApi) -> Promote -> Promoted? -> Released, and a promotion that
// re-judges a registered artifact. The e2e suite runs it on the emulator; these pin what it cannot check.

const TRAINING_TIMEOUT_SECONDS = 2 * 3600;
const DYNAMODB_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'];

/** The logical id of the one resource of a type whose logical id starts with a prefix. */
function idOf(template: Template, type: string, idPrefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(idPrefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} whose logical id starts with ${idPrefix}, found ${ids.length}`);
  return ids[0]!;
}

/** The training pipeline's definition, each resource it names spelled `<LogicalId.Arn>` or `<LogicalId>`. */
const definitionOf = (template: Template) => stateMachineDefinition(template, 'TrainingPipeline', nameIntrinsic);

/** Where a Choice state sends an input: evaluates StringEquals, BooleanEquals, Or, And and Not on `$.a.b` paths. */
function choose(choice: { Type: string; Choices: Rule[]; Default?: string }, input: Record<string, unknown>): string | undefined {
  expect(choice.Type).toBe('Choice');
  const valueAt = (path: string) => path.replace(/^\$\./, '').split('.').reduce<any>((value, key) => value?.[key], input);
  const holds = (rule: Rule): boolean => {
    if (rule.Or) return rule.Or.some(holds);
    if (rule.And) return rule.And.every(holds);
    if (rule.Not) return !holds(rule.Not);
    if ('StringEquals' in rule) return valueAt(rule.Variable!) === rule.StringEquals;
    if ('BooleanEquals' in rule) return valueAt(rule.Variable!) === rule.BooleanEquals;
    throw new Error(`unsupported choice rule ${JSON.stringify(rule)}`);
  };
  return choice.Choices.find(holds)?.Next ?? choice.Default;
}
interface Rule {
  Variable?: string;
  StringEquals?: string;
  BooleanEquals?: boolean;
  Or?: Rule[];
  And?: Rule[];
  Not?: Rule;
  Next?: string;
}

/** The one platform function whose logical id starts with a prefix. */
function functionOf(template: Template, idPrefix: string): Record<string, any> {
  return template.findResources('AWS::Lambda::Function')[idOf(template, 'AWS::Lambda::Function', idPrefix)]!;
}

/** The dev template and a reader of its training pipeline's states (each present, or the test fails naming it). */
function devPipeline() {
  const { template } = synthPlatform('dev');
  const definition = definitionOf(template);
  const state = (name: string) => {
    expect(definition.States, name).toHaveProperty([name]);
    return definition.States[name];
  };
  return { template, state };
}

describe('Release path: state graph', () => {
  it('goes from Register to Release?, which stops a register-only run at Registered', () => {
    const { state } = devPipeline();
    expect(state('Register').Next).toBe('Release?');
    expect(choose(state('Release?'), { registration: { release: false } })).toBe('Registered');
    expect(state('Registered')).toEqual({ Type: 'Succeed' });
    expect(choose(state('Release?'), { registration: { release: true } })).toBe('ApprovalRequired?');
  });

  it('waits for approval only when the registration asks for it, and promotes either way', () => {
    const { state } = devPipeline();
    expect(choose(state('ApprovalRequired?'), { registration: { release: true, needsApproval: true } })).toBe('WaitForApproval');
    expect(choose(state('ApprovalRequired?'), { registration: { release: true, needsApproval: false } })).toBe('Promote');
    expect(state('WaitForApproval').Next).toBe('Promote');
  });

  it('promotes with the Promote function, then ends in Released when production moved and records the refusal otherwise', () => {
    const { template, state } = devPipeline();
    const promote = state('Promote');
    expect(promote).toMatchObject({ Type: 'Task', ResultPath: '$.release', Next: 'Promoted?' });
    expect(promote.Resource).toBe(`<${idOf(template, 'AWS::Lambda::Function', 'TrainingPipelinePromoteHandler')}.Arn>`);
    expect(promote.Retry).toContainEqual({ ErrorEquals: [...TRANSIENT_ERRORS], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 });
    expect(promote.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'PromoteFailed' }]);
    expect(state('PromoteFailed')).toMatchObject({ Parameters: { step: 'Promote' }, Next: 'RecordFailure' });

    expect(choose(state('Promoted?'), { release: { moved: true } })).toBe('Released');
    expect(state('Released')).toEqual({ Type: 'Succeed' });
    expect(choose(state('Promoted?'), { release: { moved: false } })).toBe('PromotionRefused');
    // The refusal (for instance, production moved since the gate) becomes the run's failure: the execution fails.
    expect(state('PromotionRefused')).toEqual({
      Type: 'Pass',
      ResultPath: '$.failure',
      Parameters: { step: 'Promote', 'error.$': '$.release.error', 'cause.$': '$.release.message' },
      Next: 'RecordFailure',
    });
    expect(state('RecordFailure').Next).toBe('TrainingFailed');
  });

  it('sends a promotion (and a transfer) straight to Evaluate with the registered artifact, and training through ValidateData', () => {
    const { state } = devPipeline();
    expect(state('StartRun').Next).toBe('Promotion?');
    expect(choose(state('Promotion?'), { run: { mode: 'promote' } })).toBe('UseRegisteredArtifact');
    expect(choose(state('Promotion?'), { run: { mode: 'transfer' } })).toBe('UseRegisteredArtifact');
    for (const mode of ['train', 'import', 'reproduce']) expect(choose(state('Promotion?'), { run: { mode } }), mode).toBe('ValidateData');
    // The artifact takes the place of Train's result, so Evaluate and the steps after it read it from the same place.
    expect(state('UseRegisteredArtifact')).toEqual({
      Type: 'Pass',
      Parameters: { 'artifact.$': '$.run.artifact' },
      ResultPath: '$.training',
      Next: 'Evaluate',
    });
    expect(state('Train').ResultPath).toBe('$.training');
  });

  it('lets the state machine invoke the release functions', () => {
    const { template } = synthPlatform('dev');
    const statements = statementsOfPoliciesFor(template, 'TrainingPipelineStateMachineRole');
    const invocable = JSON.stringify(statements.filter((statement) => [statement.Action].flat().includes('lambda:InvokeFunction')).map((s) => s.Resource));
    for (const handler of ['RequestApproval', 'ExpireApproval', 'Promote']) {
      expect(invocable).toContain(`"${idOf(template, 'AWS::Lambda::Function', `TrainingPipeline${handler}Handler`)}"`);
    }
  });
});

describe('Release path: WaitForApproval', () => {
  // Not a default anywhere, so the value can only come from the environment's config.
  const approvalTimeoutSeconds = 1234;
  const synth = () => {
    const { template } = synthPlatform('dev', { approvalTimeoutSeconds });
    return { template, definition: definitionOf(template) };
  };

  it('invokes RequestApproval with .waitForTaskToken, the task token in its payload', () => {
    const { template, definition } = synth();
    const wait = definition.States.WaitForApproval;
    expect(wait.Type).toBe('Task');
    // arn:aws:states:::lambda:invoke.waitForTaskToken, in the stack's partition.
    expect(wait.Resource).toBe('arn:<AWS::Partition>:states:::lambda:invoke.waitForTaskToken');
    expect(wait.Parameters).toEqual({
      FunctionName: `<${idOf(template, 'AWS::Lambda::Function', 'TrainingPipelineRequestApprovalHandler')}.Arn>`,
      Payload: { 'taskToken.$': '$$.Task.Token', 'run.$': '$.run', 'registration.$': '$.registration', 'gate.$': '$.gate' },
    });
    // The answer (who approved) is kept next to the run; the rest of the state goes on to Promote.
    expect(wait.ResultPath).toBe('$.approval');
  });

  it('times out after the environment\'s approvalTimeoutSeconds, which RequestApproval is told too', () => {
    const { template, definition } = synth();
    expect(definition.States.WaitForApproval.TimeoutSeconds).toBe(approvalTimeoutSeconds);
    expect(functionOf(template, 'TrainingPipelineRequestApprovalHandler').Properties.Environment.Variables.APPROVAL_TIMEOUT_SECONDS).toBe(
      String(approvalTimeoutSeconds),
    );
    // cdk.json's local environment waits 20 seconds, so the emulator tests can see a release expire.
    expect(ENVIRONMENTS.local!.approvalTimeoutSeconds).toBe(20);
    expect(definitionOf(synthPlatform('local').template).States.WaitForApproval.TimeoutSeconds).toBe(20);
  });

  it('catches a timeout into ExpireApproval, a rejection into ApprovalRejected and anything else into WaitForApprovalFailed, in that order', () => {
    const { definition } = synth();
    // States.ALL must come last, or it would swallow the timeout and the rejection.
    expect(definition.States.WaitForApproval.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.caught', Next: 'ExpireApproval' },
      { ErrorEquals: ['ApprovalRejected'], ResultPath: '$.caught', Next: 'ApprovalRejected' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'WaitForApprovalFailed' },
    ]);
  });

  it('closes an expired request with ExpireApproval, then records APPROVAL_TIMED_OUT as the run\'s failure', () => {
    const { template, definition } = synth();
    const expire = definition.States.ExpireApproval;
    expect(expire).toMatchObject({ Type: 'Task', ResultPath: null, Next: 'ApprovalTimedOut' });
    expect(expire.Resource).toBe(`<${idOf(template, 'AWS::Lambda::Function', 'TrainingPipelineExpireApprovalHandler')}.Arn>`);
    expect(expire.Retry).toContainEqual({ ErrorEquals: [...TRANSIENT_ERRORS], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 });
    expect(definition.States.ApprovalTimedOut).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.failure',
      Parameters: { step: 'WaitForApproval', error: 'APPROVAL_TIMED_OUT', cause: expect.stringMatching(/production did not move/) },
      Next: 'RecordFailure',
    });
  });

  it('records a rejection (APPROVAL_REJECTED, with the rejecter\'s cause) and any other failure (APPROVAL_FAILED)', () => {
    const { definition } = synth();
    expect(definition.States.ApprovalRejected).toEqual({
      Type: 'Pass',
      ResultPath: '$.failure',
      Parameters: { step: 'WaitForApproval', error: 'APPROVAL_REJECTED', 'cause.$': '$.caught.Cause' },
      Next: 'RecordFailure',
    });
    expect(definition.States.WaitForApprovalFailed).toEqual({
      Type: 'Pass',
      ResultPath: '$.failure',
      Parameters: { step: 'WaitForApproval', error: 'APPROVAL_FAILED', 'cause.$': '$.caught.Cause' },
      Next: 'RecordFailure',
    });
  });

  it('gives the execution two hours of training on top of the whole wait for approval', () => {
    const { definition } = synth();
    expect(definition.TimeoutSeconds).toBe(TRAINING_TIMEOUT_SECONDS + approvalTimeoutSeconds);
    expect(definition.TimeoutSeconds).toBeGreaterThan(definition.States.WaitForApproval.TimeoutSeconds);
    // In every declared environment, so a timed-out approval is always recorded before the execution times out.
    for (const environment of ENVIRONMENT_NAMES) {
      const config = ENVIRONMENTS[environment];
      if (!config) continue;
      expect(definitionOf(synthPlatform(environment).template).TimeoutSeconds, environment).toBe(TRAINING_TIMEOUT_SECONDS + config.approvalTimeoutSeconds);
    }
  });
});

describe('Release path: approval policy per environment', () => {
  it('requires approval for production in prod (cdk.json)', () => {
    expect(ENVIRONMENTS.prod!.productionRequiresApproval).toBe(true);
  });

  it('tells Register the environment\'s name and whether production needs approval', () => {
    for (const [environment, expected] of [['prod', 'true'], ['dev', 'false']] as const) {
      const { template } = synthPlatform(environment);
      expect(functionOf(template, 'TrainingPipelineRegisterHandler').Properties.Environment.Variables, environment).toMatchObject({
        ENVIRONMENT_NAME: environment,
        PRODUCTION_REQUIRES_APPROVAL: expected,
      });
    }
    // The setting, not the name, decides: dev with approval on tells Register so.
    const { template } = synthPlatform('dev', { productionRequiresApproval: true });
    expect(functionOf(template, 'TrainingPipelineRegisterHandler').Properties.Environment.Variables.PRODUCTION_REQUIRES_APPROVAL).toBe('true');
  });
});

describe('Release path: pipeline functions\' grants', () => {
  const synth = () => {
    const { template } = synthPlatform('dev');
    /** The logical ids of the resources (tables, buckets, topics) that a function's statements granting a matching action name. */
    const resourcesNamed = (functionIdPrefix: string, action: (action: string) => boolean) =>
      new Set(
        statementsOfPoliciesFor(template, functionIdPrefix)
          .filter((statement) => [statement.Action].flat().some(action))
          .flatMap((statement) => [...JSON.stringify(statement.Resource).matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g)].map((match) => match[1])),
      );
    return {
      template,
      resourcesNamed,
      registry: idOf(template, 'AWS::DynamoDB::Table', 'RegistryTable'),
      tracking: idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable'),
      reports: idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreReports'),
      topic: idOf(template, 'AWS::SNS::Topic', 'AlertsTopic'),
    };
  };

  it('lets RequestApproval write the registry and publish the alert, nothing else', () => {
    const { template, resourcesNamed, registry, topic } = synth();
    const prefix = 'TrainingPipelineRequestApprovalHandler';
    const actions = actionsOfRoleFor(template, prefix);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sns:Publish']));
    // The alerts topic's customer managed key (CloudWatch alarms cannot publish to a topic under the AWS managed key).
    expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'))).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*', 'sns:Publish']);
    expect(resourcesNamed(prefix, (a) => a.startsWith('dynamodb:'))).toEqual(new Set([registry]));
    expect(resourcesNamed(prefix, (a) => a === 'sns:Publish')).toEqual(new Set([topic]));
  });

  it('lets ExpireApproval read and write the registry only', () => {
    const { template, resourcesNamed, registry } = synth();
    const prefix = 'TrainingPipelineExpireApprovalHandler';
    expect(actionsOfRoleFor(template, prefix)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(actionsOfRoleFor(template, prefix).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'))).toEqual([]);
    expect(resourcesNamed(prefix, (a) => a.startsWith('dynamodb:'))).toEqual(new Set([registry]));
  });

  it('lets Promote write the registry and the run, and touch no bucket or topic', () => {
    const { template, resourcesNamed, registry, tracking } = synth();
    const prefix = 'TrainingPipelinePromoteHandler';
    expect(actionsOfRoleFor(template, prefix)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem']));
    expect(actionsOfRoleFor(template, prefix).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'))).toEqual([]);
    expect(resourcesNamed(prefix, (a) => DYNAMODB_WRITES.includes(a))).toEqual(new Set([registry, tracking]));
  });

  it('lets Evaluate read the registry (to score production) without writing it, and leave its evidence in the reports bucket', () => {
    const { template, resourcesNamed, registry, reports } = synth();
    const prefix = 'TrainingPipelineEvaluateHandler';
    expect(resourcesNamed(prefix, (a) => a === 'dynamodb:GetItem')).toContain(registry);
    expect(resourcesNamed(prefix, (a) => DYNAMODB_WRITES.includes(a))).not.toContain(registry);
    expect(resourcesNamed(prefix, (a) => a === 's3:PutObject')).toEqual(new Set([reports]));
    expect(functionOf(template, prefix).Properties.Environment.Variables.REPORTS_BUCKET).toEqual({ Ref: reports });
  });

  it('lets Gate read the evidence from the reports bucket, and not the registry', () => {
    const { resourcesNamed, registry, reports } = synth();
    const prefix = 'TrainingPipelineGateHandler';
    expect(resourcesNamed(prefix, (a) => a.startsWith('s3:GetObject'))).toEqual(new Set([reports]));
    expect(resourcesNamed(prefix, (a) => a.startsWith('dynamodb:'))).not.toContain(registry);
  });
});

describe('Release path: RegistryApi function', () => {
  const prefix = 'ManagementApiRegistryApi';
  const synth = () => {
    const { template } = synthPlatform('dev');
    const statements = statementsOfPoliciesFor(template, prefix);
    return {
      template,
      statements,
      granting: (action: string) => statements.filter((statement) => [statement.Action].flat().includes(action)),
      pipeline: idOf(template, 'AWS::StepFunctions::StateMachine', 'TrainingPipeline'),
      registry: idOf(template, 'AWS::DynamoDB::Table', 'RegistryTable'),
      tracking: idOf(template, 'AWS::DynamoDB::Table', 'TrackingTable'),
    };
  };
  const names = (statement: { Resource: unknown }, logicalId: string) => JSON.stringify(statement.Resource).includes(`"${logicalId}"`);

  it('has API Gateway\'s 29 seconds and the tables and the training pipeline in its environment', () => {
    const { template, pipeline, registry, tracking } = synth();
    const fn = functionOf(template, `${prefix}Function`);
    expect(fn.Properties.Timeout).toBe(29);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      REGISTRY_TABLE: { Ref: registry },
      TRACKING_TABLE: { Ref: tracking },
      TRAINING_PIPELINE_ARN: { Ref: pipeline },
    });
  });

  it('may start executions of the training pipeline and the rollout state machine only', () => {
    const { template, granting, pipeline } = synth();
    const rollout = idOf(template, 'AWS::StepFunctions::StateMachine', 'RolloutStateMachine');
    const starts = granting('states:StartExecution');
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.map((statement) => [statement.Resource].flat())).toEqual(expect.arrayContaining([[{ Ref: pipeline }], [{ Ref: rollout }]]));
    for (const statement of starts) expect([[{ Ref: pipeline }], [{ Ref: rollout }]]).toContainEqual([statement.Resource].flat());
  });

  it('may answer the task token of a waiting release (SendTaskSuccess, SendTaskFailure) on the training pipeline', () => {
    const { granting, pipeline } = synth();
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure']) {
      const answers = granting(action);
      expect(answers.length, action).toBeGreaterThan(0);
      for (const statement of answers) expect([statement.Resource].flat(), action).toEqual([{ Ref: pipeline }]);
    }
  });

  it('calls no other Step Functions action and touches no topic', () => {
    const { template } = synth();
    const actions = actionsOfRoleFor(template, prefix);
    expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:') && !a.startsWith('s3:'))).toEqual([
      // A spec put writes the model's dashboard and alarms (resources: test/infra/monitoring.test.ts).
      'cloudwatch:DeleteAlarms',
      'cloudwatch:DeleteDashboards',
      'cloudwatch:PutDashboard',
      'cloudwatch:PutMetricAlarm',
      // A spec put with a schedule writes its drift-check or retraining schedule (resources: test/infra/model-schedules.test.ts).
      'iam:PassRole',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
      // An approval whose token is gone asks whether the release still runs.
      'states:DescribeExecution',
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
      'states:StartExecution',
      // Rollout abort and a manual rollback during a rollout stop its execution and the release runs it waits on.
      'states:StopExecution',
    ]);
  });

  it('reads gate reports (gates/*) from the reports bucket, and writes no bucket', () => {
    const { template, statements } = synth();
    const reports = idOf(template, 'AWS::S3::Bucket', 'ArtifactStoreReports');
    const onS3 = statements.filter((statement) => [statement.Action].flat().some((action: string) => action.startsWith('s3:')));
    expect(onS3.length).toBeGreaterThan(0);
    const actions = onS3.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions).toContain('s3:GetObject*');
    expect(actions.filter((action) => /^s3:(Put|Delete|Abort)/.test(action))).toEqual([]);
    for (const statement of onS3) {
      const resources = JSON.stringify(statement.Resource);
      expect(resources).toContain(`"${reports}"`);
      for (const object of [statement.Resource].flat().filter((resource: unknown) => JSON.stringify(resource).includes('/'))) {
        expect(JSON.stringify(object)).toContain('/gates/*');
      }
    }
  });

  it('reads and writes the registry table', () => {
    const { statements, registry } = synth();
    const onRegistry = statements.filter((statement) => names(statement, registry));
    const actions = new Set(onRegistry.flatMap((statement) => [statement.Action].flat()));
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']) {
      expect(actions, action).toContain(action);
    }
  });

  it('reads the tracking table (runs, for lineage) and never writes it', () => {
    const { statements, tracking } = synth();
    const onTracking = statements.filter((statement) => names(statement, tracking));
    expect(onTracking.length).toBeGreaterThan(0);
    const actions = onTracking.flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.filter((a) => DYNAMODB_WRITES.includes(a))).toEqual([]);
  });

  it('has a role of its own, separate from the DatasetsApi function\'s', () => {
    const { template, pipeline } = synth();
    const roleOf = (functionIdPrefix: string) => functionOf(template, functionIdPrefix).Properties.Role;
    expect(roleOf(`${prefix}Function`)).not.toEqual(roleOf('ManagementApiDatasetsApiFunction'));
    // The DatasetsApi cannot answer approvals or start training.
    const datasetsActions = actionsOfRoleFor(template, 'ManagementApiDatasetsApi');
    expect(datasetsActions.filter((a) => a.startsWith('states:SendTask'))).toEqual([]);
    const datasetStarts = statementsOfPoliciesFor(template, 'ManagementApiDatasetsApi').filter((s) => [s.Action].flat().includes('states:StartExecution'));
    for (const statement of datasetStarts) expect(JSON.stringify(statement.Resource)).not.toContain(`"${pipeline}"`);
  });
});

import { DeleteRolePolicyCommand, IAMClient, ListRolesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { managementApiUrl } from '../../lambdas/contract/stack.js';
import { signedFetch } from '../../lib/client/signed-fetch.js';
import { logisticOnnx } from '../fixtures/onnx-builder.js';
import { creditSpec, goodCsv, mlops, mlopsLinesWith, mlopsWith, uniqueName } from './fixtures.js';
import { cliEnvironment, createIamUser, invoke, routeArn, type IamUser } from './iam.js';

/**
 * Least privilege, proven on the emulator: MiniStack runs with AUTH=true (scripts/emulator.sh), so
 * it verifies every SigV4 signature and evaluates IAM policies, for users and for the functions'
 * own execution roles. The CLI runs as a separate process with a user's keys and nothing else.
 */
describe('IAM on the emulator: who may call what, and who is recorded', () => {
  const outputs = inject('stackOutputs');
  const folder = mkdtempSync(join(tmpdir(), 'mlops-iam-'));
  const input = JSON.stringify({ inputs: { age: 41, income: 52000, debt_ratio: 0.3, credit_lines: 4, late_payments: 0 } });
  const as = (user: IamUser, ...args: string[]) => mlopsWith(cliEnvironment(user, outputs), ...args);
  /**
   * API Gateway's 403 as the CLI reports it: AWS renders the API's ACCESS_DENIED gateway response; the
   * emulator answers with its own AccessDeniedException body, which the client reads as the same code.
   */
  const REFUSED = { code: 1, json: { error: { code: 'ACCESS_DENIED' } } };
  const spec = (name: string, dataset: string, extra: Record<string, unknown> = {}) => {
    const file = join(folder, `${name}.json`);
    writeFileSync(file, JSON.stringify({ ...creditSpec(name, dataset), ...extra }));
    return file;
  };

  /** The management API (every CLI route), predict and feedback on the serving API: what docs/IAM.md gives a CLI user. */
  const cliUserPolicy = () => [
    { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [routeArn(outputs, 'management', '* /*')] },
    invoke(outputs, 'serving', ['POST /models/{model}/predict', 'POST /models/{model}/feedback']),
  ] as const;
  const viewerRoutes = ['GET /*'];
  const trainerRoutes = [
    'POST /datasets/{name}/uploads',
    'POST /datasets/{name}/versions',
    'POST /datasets/{name}/versions/{version}/validate',
    'PUT /models/{model}',
    'POST /models/{model}/runs',
    'POST /models/{model}/imports/uploads',
    'POST /runs/compare',
  ];
  const approverRoutes = [
    'POST /models/{model}/versions/{version}/approve',
    'POST /models/{model}/versions/{version}/reject',
    'POST /models/{model}/aliases/{alias}',
    'POST /models/{model}/rollback',
  ];

  const dataset = uniqueName('iam-applications');
  beforeAll(async () => {
    writeFileSync(join(folder, 'data.csv'), goodCsv());
    expect((await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', dataset, '--target', 'defaulted')).code).toBe(0);
  });

  it('verifies signatures and evaluates policies: no policy is refused, a wrong secret is refused, the policy allows', async () => {
    const key = { pk: { S: 'MODEL#no-such-model' }, sk: { S: 'META' } };
    const tableArn = `arn:aws:dynamodb:${process.env.AWS_REGION}:000000000000:table/${outputs.RegistryTable}`;
    const nobody = await createIamUser('iam-nobody', []);
    const reader = await createIamUser('iam-reader', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: tableArn }]);
    const dynamo = (credentials: IamUser['credentials']) => new DynamoDBClient({ credentials, maxAttempts: 1 });
    const get = (credentials: IamUser['credentials']) => dynamo(credentials).send(new GetItemCommand({ TableName: outputs.RegistryTable, Key: key }));

    await expect(get(nobody.credentials)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(get({ ...reader.credentials, secretAccessKey: 'not-the-secret' })).rejects.toMatchObject({ name: expect.stringMatching(/InvalidSignature|SignatureDoesNotMatch/) });
    await expect(get(reader.credentials)).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });

  it('refuses a user without execute-api:Invoke with 403, and a forged signature', async () => {
    const nobody = await createIamUser('iam-nobody', []);
    const other = await createIamUser('iam-other-api', [invoke(outputs, 'serving', ['POST /models/{model}/predict'])]);

    const refused = await as(nobody, 'models', 'list');
    const wrongApi = await as(other, 'dataset', 'list');
    const forged = await mlopsWith({ ...cliEnvironment(other, outputs), AWS_SECRET_ACCESS_KEY: 'forged' }, 'models', 'list');

    expect(refused).toMatchObject(REFUSED);
    expect(refused.json.error.message).toMatch(/not authorized/);
    expect(wrongApi).toMatchObject(REFUSED);
    expect(forged).toMatchObject(REFUSED);
    expect(forged.json.error.message).toMatch(/signature/i);
    // The same route, signed by the account's root: the API itself answers.
    expect((await mlops('models', 'list')).code).toBe(0);
  });

  describe('a CLI user whose only right is execute-api:Invoke runs every README command that talks to the stack', () => {
    let cli: IamUser;
    const data = uniqueName('iam-readme-data');
    const model = uniqueName('iam-readme');
    const gated = uniqueName('iam-readme-approval');
    const runs: string[] = [];
    beforeAll(async () => {
      cli = await createIamUser('iam-cli', [...cliUserPolicy()]);
    });

    it('datasets, models create, train (twice), runs list/show/compare, reproduce', async () => {
      const registered = await as(cli, 'dataset', 'register', join(folder, 'data.csv'), '--name', data, '--target', 'defaulted');
      expect(registered).toMatchObject({ code: 0, json: { created: true, dataset: { name: data } } });
      expect(await as(cli, 'dataset', 'list')).toMatchObject({ code: 0, json: { datasets: expect.arrayContaining([expect.objectContaining({ name: data })]) } });
      expect(await as(cli, 'dataset', 'list', data)).toMatchObject({ code: 0, json: { name: data } });
      expect(await as(cli, 'dataset', 'show', data, '--profile')).toMatchObject({ code: 0, json: { dataset: { name: data }, profile: {} } });
      expect(await as(cli, 'models', 'create', '--spec', spec(model, data))).toMatchObject({ code: 0, json: { model, created: true } });
      expect(await as(cli, 'dataset', 'validate', data, '--model', model)).toMatchObject({ code: 0, json: { dataset: { name: data } } });

      const first = await as(cli, 'train', model, '--dataset', data, '--wait');
      expect(first).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { model, actor: cli.arn } } });
      const second = await as(cli, 'train', model, '--dataset', data, '--param', 'C=0.1', '--wait');
      expect(second).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { model, parameters: { C: 0.1 } } } });
      runs.push(first.json.runId, second.json.runId);

      expect(await as(cli, 'runs', 'list', model)).toMatchObject({ code: 0, json: expect.arrayContaining([expect.objectContaining({ runId: runs[0] })]) });
      expect(await as(cli, 'runs', 'show', runs[0]!)).toMatchObject({ code: 0, json: { runId: runs[0], actor: cli.arn } });
      expect(await as(cli, 'runs', 'compare', runs[0]!, runs[1]!)).toMatchObject({ code: 0, json: { runs: [expect.anything(), expect.anything()] } });
      expect(await as(cli, 'reproduce', runs[0]!)).toMatchObject({ code: 0, json: { matches: true } });
    });

    it('models import, list, show; promote, approve, rollback; lineage, audit, predict, feedback', async () => {
      const onnx = uniqueName('iam-readme-onnx');
      writeFileSync(join(folder, 'model.onnx'), logisticOnnx([-0.02, -0.00002, 3, -0.1, 0.8], -1));
      expect(await as(cli, 'models', 'create', '--spec', spec(onnx, data, { validation: {}, gate: { minRows: 100 } }))).toMatchObject({ code: 0 });
      expect(await as(cli, 'models', 'import', onnx, '--artifact', join(folder, 'model.onnx'), '--dataset', data)).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { mode: 'import', actor: cli.arn } } });

      expect(await as(cli, 'models', 'list')).toMatchObject({ code: 0, json: { models: expect.arrayContaining([expect.objectContaining({ name: model })]) } });
      expect(await as(cli, 'models', 'show', `${model}@production`)).toMatchObject({ code: 0, json: { model, version: 2 } });

      // A model whose production needs a person: register only, promote, approve.
      expect(await as(cli, 'models', 'create', '--spec', spec(gated, data, { approval: { requiredIn: ['local'] } }))).toMatchObject({ code: 0 });
      expect(await as(cli, 'train', gated, '--dataset', data, '--register-only', '--wait')).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { modelVersion: 1 } } });
      expect(await as(cli, 'promote', gated, '1', '--to', 'production', '--reason', 'better recall')).toMatchObject({ code: 0, json: { status: 'WAITING_FOR_APPROVAL', version: 1 } });
      expect(await as(cli, 'approve', gated, '1', '--reason', 'reviewed the gate report')).toMatchObject({ code: 0, json: { status: 'APPROVED' } });

      expect(await as(cli, 'rollback', model, '--reason', 'latency regression')).toMatchObject({ code: 0, json: { status: 'ROLLED_BACK', production: { version: 1 } } });
      // Version 2 was gated against version 1, production again: it may shadow it (a shadow never answers, so predict below stays on 1).
      expect(await as(cli, 'promote', model, '2', '--to', 'shadow')).toMatchObject({ code: 0, json: { status: 'MOVED', alias: { alias: 'shadow', version: 2, updatedBy: cli.arn } } });
      expect(await as(cli, 'lineage', `${model}@production`)).toMatchObject({ code: 0 });
      expect(await as(cli, 'lineage', '--dataset', `${data}@latest`)).toMatchObject({ code: 0 });
      expect(await as(cli, 'audit', model)).toMatchObject({ code: 0, json: { model, events: expect.arrayContaining([expect.objectContaining({ action: 'alias.rolled_back' })]) } });
      // The registry events through the API (GET /events): the Invoke-only user follows them too.
      const tail = await mlopsLinesWith(cliEnvironment(cli, outputs), 'events', 'tail', '--model', model, '--since', '1h', '--no-follow');
      expect(tail.code).toBe(0);
      expect(tail.lines).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'alias.rolled_back', model, actor: cli.arn, reason: 'latency regression' })]));
      const predicted = await as(cli, 'predict', model, '--input', input);
      expect(predicted).toMatchObject({ code: 0, json: { status: 200, body: { model, version: 1 } } });
      const labels = join(folder, 'labels.csv');
      writeFileSync(labels, `requestId,label\n${predicted.json.body.requestId},1\n`);
      expect(await as(cli, 'feedback', model, '--file', labels)).toMatchObject({ code: 0, json: { counts: { accepted: 1, unknown: 0 } } });
    });
  });

  it('records two IAM users as two actors on model specs, runs, promotions and the audit events the pipeline writes', async () => {
    const alice = await createIamUser('iam-alice', [...cliUserPolicy()]);
    const bob = await createIamUser('iam-bob', [...cliUserPolicy()]);
    const model = uniqueName('iam-actors');
    expect(await as(alice, 'models', 'create', '--spec', spec(model, dataset))).toMatchObject({ code: 0 });

    const trained = await as(alice, 'train', model, '--dataset', dataset, '--register-only', '--wait');
    const promoted = await as(bob, 'promote', model, '1', '--to', 'production', '--reason', 'second pair of eyes');

    expect(trained).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { actor: alice.arn, modelVersion: 1 } } });
    expect(promoted).toMatchObject({ code: 0, json: { status: 'RELEASED', production: { version: 1, updatedBy: bob.arn } } });
    expect(await mlops('runs', 'show', promoted.json.runId)).toMatchObject({ code: 0, json: { mode: 'promote', actor: bob.arn } });
    const events: { action: string; actor: string; after?: { alias?: string } }[] = (await mlops('audit', model)).json.events;
    const byAction = (action: string, alias?: string) => events.filter((e) => e.action === action && (alias === undefined || e.after?.alias === alias)).map((e) => e.actor);
    expect(byAction('model.created')).toEqual([alice.arn]);
    // Written by the pipeline's Register and Promote steps, for the person who started each run.
    expect(byAction('version.registered')).toEqual([alice.arn]);
    expect(byAction('alias.moved', 'candidate')).toEqual([alice.arn]);
    expect(byAction('alias.moved', 'production')).toEqual([bob.arn]);
    expect(alice.arn).not.toBe(bob.arn);
  });

  it('separates duties per route: a viewer only reads, a trainer trains but gets 403 on approve, an approver approves', async () => {
    const route = (routes: string[]) => invoke(outputs, 'management', routes);
    const viewer = await createIamUser('iam-viewer', [route(viewerRoutes)]);
    const trainer = await createIamUser('iam-trainer', [route([...viewerRoutes, ...trainerRoutes])]);
    const approver = await createIamUser('iam-approver', [route([...viewerRoutes, ...approverRoutes])]);
    const model = uniqueName('iam-duties');

    expect(await as(viewer, 'models', 'create', '--spec', spec(model, dataset, { approval: { requiredIn: ['local'] } }))).toMatchObject(REFUSED);
    expect(await as(trainer, 'models', 'create', '--spec', spec(model, dataset, { approval: { requiredIn: ['local'] } }))).toMatchObject({ code: 0 });
    expect(await as(viewer, 'models', 'show', model)).toMatchObject({ code: 0, json: { name: model } });
    expect(await as(viewer, 'train', model, '--dataset', dataset)).toMatchObject(REFUSED);

    const waiting = await as(trainer, 'train', model, '--dataset', dataset, '--wait');
    expect(waiting).toMatchObject({ code: 0, json: { status: 'WAITING_FOR_APPROVAL', version: 1 } });
    const selfApproved = await as(trainer, 'approve', model, '1', '--reason', 'my own work looks fine');
    const selfPromoted = await as(trainer, 'promote', model, '1', '--to', 'canary');
    const approved = await as(approver, 'approve', model, '1', '--reason', 'reviewed the gate report');

    expect(selfApproved).toMatchObject(REFUSED);
    expect(selfPromoted).toMatchObject(REFUSED);
    expect(approved).toMatchObject({ code: 0, json: { status: 'APPROVED', version: { approval: { decidedBy: approver.arn } } } });
    // The approval resumes the trainer's run: the approver moves production, the run keeps its starter.
    let production: { code: number; json: any } = { code: 1, json: {} };
    for (let i = 0; i < 60 && production.code !== 0; i += 1) {
      production = await mlops('models', 'show', `${model}@production`);
      if (production.code !== 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(production).toMatchObject({ code: 0, json: { version: 1 } });
    const events: { action: string; actor: string; after?: { alias?: string } }[] = (await mlops('audit', model)).json.events;
    expect(events.filter((e) => e.action === 'alias.moved' && e.after?.alias === 'production').map((e) => e.actor)).toEqual([approver.arn]);
    expect(await mlops('runs', 'show', waiting.json.runId)).toMatchObject({ code: 0, json: { actor: trainer.arn, status: 'SUCCEEDED' } });
  });

  it("applies each function's own execution role to the function's calls", async () => {
    const iam = new IAMClient({});
    const { Roles = [] } = await iam.send(new ListRolesCommand({}));
    const role = Roles.find((r) => /ManagementApiDatasetsApi/.test(r.RoleName ?? '') && r.RoleName!.includes('Mlops-local'));
    expect(role, 'the datasets API function role').toBeDefined();
    const listDatasets = () => signedFetch(`${managementApiUrl(outputs, process.env.AWS_ENDPOINT_URL)}/datasets`, { method: 'GET', region: process.env.AWS_REGION! });
    expect((await listDatasets()).status).toBe(200);

    // An explicit deny on the role (not on the caller, who is the account's root) breaks the function's own DynamoDB reads.
    await iam.send(new PutRolePolicyCommand({ RoleName: role!.RoleName!, PolicyName: 'e2e-deny-dynamodb', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'dynamodb:*', Resource: '*' }] }) }));
    let denied;
    try {
      denied = await listDatasets();
    } finally {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: role!.RoleName!, PolicyName: 'e2e-deny-dynamodb' }));
    }

    expect(denied.status).toBeGreaterThanOrEqual(500);
    expect((await listDatasets()).status).toBe(200);
  });
});

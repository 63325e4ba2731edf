import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { runStores } from '../../../lambdas/aws/run-stores.js';
import type { DatasetSchema } from '../../../lambdas/core/data/profile.js';
import { InputValidationError } from '../../../lambdas/core/errors.js';
import { createHandler } from '../../../lambdas/start-run/handler.js';
import { datasetVersion, MemoryRegistry, MemoryTracking } from '../fakes.js';
import { mixedSpec, rejectedWith } from '../helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression', { dataset: 'loans' });
const schema: DatasetSchema = {
  source: 'inferred',
  columns: ['age', 'income', 'debt', 'plan', 'region', 'day', 'target'].map((name) => ({ name, type: ['plan', 'region', 'day', 'target'].includes(name) ? 'string' : 'numeric', nullable: true })),
} as DatasetSchema;
const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const BOB = 'arn:aws:iam::000000000000:user/bob';
const NOW = new Date('2024-03-01T12:00:00.000Z');

function stores() {
  const registry = new MemoryRegistry();
  const tracking = new MemoryTracking()
    .addDataset(datasetVersion({ name: 'loans', version: OLD, schema, arrivedAt: '2024-01-01T00:00:00.000Z' }))
    .addDataset(
      datasetVersion({
        name: 'loans',
        version: NEW,
        schema,
        arrivedAt: '2024-02-01T00:00:00.000Z',
        quarantined: true,
        quarantinedFor: [{ model: spec.name, gate: 'data-validation', reason: 'too many missing', at: '2024-02-01T00:00:00.000Z' }],
      }),
    );
  return { registry, tracking, handler: createHandler(runStores(registry, tracking), { codeVersion: 'abc123', clock: () => NOW }) };
}

const event = (request: Record<string, unknown>, name = 'mixed-model-20240301120000-aaaaaa') => ({
  executionName: name,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:training:${name}`,
  request,
});

describe('the StartRun handler', () => {
  it('records the run RUNNING once per execution, with the signed actor, and answers the context the steps read', async () => {
    const { registry, tracking, handler } = stores();
    await registry.putModel(spec, BOB);
    const request = { model: spec.name, dataset: { name: 'loans', version: OLD }, actor: BOB, params: { C: 0.5 } };
    const context = await handler(event(request));
    expect(context).toMatchObject({ runId: 'mixed-model-20240301120000-aaaaaa', mode: 'train', model: spec.name, actor: BOB, release: true, dataset: { name: 'loans', version: OLD } });
    expect(context.spec).toMatchObject({ training: { params: { C: 0.5 } } });
    const run = await tracking.getRun(context.runId);
    expect(run).toMatchObject({ status: 'RUNNING', actor: BOB, codeVersion: 'abc123', startedAt: NOW.toISOString(), executionArn: event(request).executionArn });

    // A retried StartRun finds the record and changes nothing.
    expect(await handler(event({ ...request, actor: 'someone-else' }))).toMatchObject({ runId: context.runId, actor: BOB });
    expect(tracking.runs.size).toBe(1);
  });

  it('takes the newest dataset version not quarantined for the model when none is named', async () => {
    const { registry, handler } = stores();
    await registry.putModel(spec, BOB);
    expect((await handler(event({ model: spec.name, dataset: { name: 'loans' }, actor: BOB }))).dataset.version).toBe(OLD);
  });

  it('refuses an event without its execution ARN, naming the field, and a model that does not exist', async () => {
    const { handler } = stores();
    const { executionArn: _arn, ...withoutArn } = event({ model: spec.name, dataset: { name: 'loans' } });
    expect((await rejectedWith(handler(withoutArn), InputValidationError)).field).toBe('executionArn');
    await expect(handler(event({ model: spec.name, dataset: { name: 'loans' } }))).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'model' });
  });
});

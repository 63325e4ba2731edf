import './lambda-env.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { HeldOutFileSchema } from '../../../lambdas/core/evaluation/held-out.js';
import { InputValidationError, MlopsError } from '../../../lambdas/core/errors.js';
import type { ModelVersion } from '../../../lambdas/core/registry/records.js';
import { splitRows, targetOf, trainModel } from '../../../lambdas/core/training/train-model.js';
import { createHandler } from '../../../lambdas/evaluate/handler.js';
import { evaluateStores, MemoryRegistry, runContext } from '../fakes.js';
import { mixedDataset, mixedSpec, rejectedWith } from '../helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const table = mixedDataset('binary_classification');
let candidateText: string;
let championText: string;

beforeAll(() => {
  candidateText = trainModel(table, spec).artifactText;
  championText = trainModel(table, mixedSpec('binary_classification', 'gradient_boosting')).artifactText;
});

function productionVersion(artifact: { uri: string; sha256: string }, version = 3): ModelVersion {
  return {
    model: spec.name,
    version,
    runId: 'earlier-run',
    artifact,
    dataset: runContext(spec).dataset,
    metrics: {},
    gateReportUri: 's3://reports/gates/earlier.json',
    gateSummary: 'passed',
    judgedAgainst: null,
    codeVersion: 'test',
    createdBy: 'someone',
    status: 'APPROVED',
    createdAt: '2024-01-01T00:00:00.000Z',
  } as ModelVersion;
}

describe('the Evaluate handler', () => {
  it('scores the candidate and production on the same held-out rows, with segments, and writes the evidence', async () => {
    const registry = new MemoryRegistry();
    const { stores, objects, runs } = evaluateStores(table, { registry });
    const champion = objects.store('s3://models/models/mixed-model/runs/earlier-run/model.json', championText);
    registry.addVersion(productionVersion(champion)).pointAlias(spec.name, 'production', 3);
    const run = runContext(spec);
    const artifact = objects.store(`s3://models/models/${spec.name}/runs/${run.runId}/model.json`, candidateText);

    const answer = await createHandler(stores)({ run, training: { artifact } });

    expect(answer.champion).toEqual({ version: 3 });
    expect(answer.heldOutUri).toBe(`s3://reports/evaluations/${spec.name}/${run.runId}.json`);
    expect(answer.nonFinitePredictions).toBe(0);
    const heldOut = HeldOutFileSchema.parse(await objects.json(answer.heldOutUri!));
    const { y } = targetOf(table, spec);
    const test = splitRows(table, spec, y).test;
    expect(heldOut.rows).toEqual(test);
    expect(heldOut.labels).toEqual(test.map((row) => y[row]));
    expect(heldOut.candidate).toHaveLength(test.length);
    expect(heldOut.champion?.outputs).toHaveLength(test.length);
    // Two different models: their outputs differ somewhere on the shared rows.
    expect(heldOut.champion!.outputs).not.toEqual(heldOut.candidate);
    expect(heldOut.segments.region).toHaveLength(test.length);
    expect(runs.get(run.runId)).toMatchObject({ metrics: answer.metrics });
    expect(Object.keys(runs.get(run.runId).segmentMetrics!.region!).length).toBeGreaterThan(1);
    expect(runs.get(run.runId).status).toBeUndefined();
  });

  it('has no champion when nothing serves in production, and none when the promoted version is production itself', async () => {
    const { stores, objects, registry } = evaluateStores(table);
    const run = runContext(spec);
    const artifact = objects.store('s3://models/candidate.json', candidateText);
    expect((await createHandler(stores)({ run, training: { artifact } })).champion).toBeNull();

    registry.addVersion(productionVersion(artifact, 4)).pointAlias(spec.name, 'production', 4);
    const promotion = runContext(spec, { mode: 'promote', promotion: { version: 4, reason: 'again' } });
    expect((await createHandler(stores)({ run: promotion, training: { artifact } })).champion).toBeNull();
  });

  it('ends a reproduction with its metrics: the run SUCCEEDED, no evidence written', async () => {
    const { stores, objects, runs } = evaluateStores(table);
    const run = runContext(spec, { mode: 'reproduce' });
    const artifact = objects.store('s3://models/reproduced.json', candidateText);
    const answer = await createHandler(stores)({ run, training: { artifact } });
    expect(answer.heldOutUri).toBeUndefined();
    expect(runs.get(run.runId)).toMatchObject({ status: 'SUCCEEDED', metrics: answer.metrics });
    expect([...objects.objects.keys()].some((uri) => uri.startsWith('s3://reports/'))).toBe(false);
  });

  it('refuses an artifact whose bytes no longer match their recorded sha256', async () => {
    const { stores, objects } = evaluateStores(table);
    const artifact = objects.store('s3://models/changed.json', candidateText);
    objects.objects.set(artifact.uri, new TextEncoder().encode(`${candidateText} `));
    const error = await rejectedWith(createHandler(stores)({ run: runContext(spec), training: { artifact } }), MlopsError);
    expect(error.code).toBe('ARTIFACT_MISMATCH');
    expect(error.message).toContain(artifact.uri);
  });

  it('refuses a state without the trained artifact, naming the field', async () => {
    const { stores } = evaluateStores(table);
    const error = await rejectedWith(createHandler(stores)({ run: runContext(spec), training: {} }), InputValidationError);
    expect(error.field).toBe('training.artifact');
    const noRun = await rejectedWith(createHandler(stores)({ training: {} }), InputValidationError);
    expect(noRun.field).toBe('run');
  });
});

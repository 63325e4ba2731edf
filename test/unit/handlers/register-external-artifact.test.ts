import './lambda-env.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputValidationError, MlopsError } from '../../../lambdas/core/errors.js';
import { loadModelFile } from '../../../lambdas/core/serving/model-file.js';
import { sha256Hex } from '../../../lambdas/core/sha256.js';
import type { ExternalArtifactStores } from '../../../lambdas/core/training/external-artifact.js';
import { trainModel } from '../../../lambdas/core/training/train-model.js';
import { createHandler } from '../../../lambdas/register-external-artifact/handler.js';
import { MemoryObjects, MemoryRuns, runContext } from '../fakes.js';
import { mixedDataset, mixedSpec, rejectedWith } from '../helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const run = runContext(spec);
const RUN_KEY = `models/${spec.name}/runs/${run.runId}/model.json`;
let modelJson: string;
let packed: Uint8Array;

beforeAll(() => {
  modelJson = trainModel(mixedDataset('binary_classification', 200), spec).artifactText;
  // SageMaker's output: model.json at the top of a gzipped tar, as `tar -C /opt/ml/model -czf` writes it.
  const dir = mkdtempSync(join(tmpdir(), 'external-artifact-'));
  writeFileSync(join(dir, 'model.json'), modelJson);
  execFileSync('tar', ['-C', dir, '-czf', join(dir, 'model.tar.gz'), 'model.json']);
  packed = readFileSync(join(dir, 'model.tar.gz'));
});

function stores(objects = new MemoryObjects(), runs = new MemoryRuns()): ExternalArtifactStores {
  return { objects, models: { bucket: 'models', put: (key, bytes) => objects.put('models', key, bytes) }, runs };
}

describe('the RegisterExternalArtifact handler', () => {
  it('unpacks SageMaker\'s model.tar.gz into the run\'s model.json and records a sha256 the verified loader accepts', async () => {
    const objects = new MemoryObjects();
    const runs = new MemoryRuns();
    const source = objects.store('s3://jobs/output/job-1/model.tar.gz', packed).uri;
    const answer = await createHandler(stores(objects, runs))({ run, artifactUri: source });
    expect(answer).toEqual({ artifact: { uri: `s3://models/${RUN_KEY}`, sha256: sha256Hex(modelJson) }, source });
    expect(runs.get(run.runId).artifact).toEqual(answer.artifact);
    expect((await loadModelFile(objects, answer.artifact)).kind).toBe('builtin');
  });

  it('records a model.json the job already wrote at the run\'s key without copying it', async () => {
    const objects = new MemoryObjects();
    const { uri } = objects.store(`s3://models/${RUN_KEY}`, modelJson);
    const answer = await createHandler(stores(objects))({ run, artifactUri: uri });
    expect(answer.artifact).toEqual({ uri, sha256: sha256Hex(modelJson) });
    expect(objects.objects.size).toBe(1);
  });

  it('refuses a model of another model, a missing output and a state without the URI, naming each', async () => {
    const objects = new MemoryObjects();
    const other = objects.store('s3://jobs/other/model.json', modelJson.replace(`"model":"${spec.name}"`, '"model":"other-model"')).uri;
    const wrong = await rejectedWith(createHandler(stores(objects))({ run, artifactUri: other }), MlopsError);
    expect(wrong.code).toBe('EXTERNAL_ARTIFACT_INVALID');
    expect(wrong.message).toContain('model is "other-model"');
    const missing = await rejectedWith(createHandler(stores(objects))({ run, artifactUri: 's3://jobs/none/model.tar.gz' }), MlopsError);
    expect(missing).toMatchObject({ code: 'EXTERNAL_ARTIFACT_INVALID', message: 'the training job left no artifact at s3://jobs/none/model.tar.gz' });
    expect((await rejectedWith(createHandler(stores(objects))({ run }), InputValidationError)).field).toBe('artifactUri');
  });
});

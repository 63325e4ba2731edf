import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { describeImport, featureMatrix, importedFeatureNames, ImportedArtifactSchema, type OnnxScorer } from '../../lambdas/core/training/imported-model.js';
import { parseModelFile } from '../../lambdas/core/serving/model-file.js';
import { loadOnnx, scoreOnnxDetailed } from '../../lambdas/core/serving/onnx-model.js';
import { trainModel } from '../../lambdas/core/training/train-model.js';
import { fitLogistic } from '../../lambdas/core/training/trainers/logistic.js';
import { fromRows } from '../../lambdas/core/training/trainers/matrix.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { logisticOnnx } from '../fixtures/onnx-builder.js';
import { evaluateInMemory, MemoryObjects } from './fakes.js';
import { creditSpec, thrownBy } from './helpers.js';

const FEATURES = ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'];

/** A real onnxruntime scorer over an ONNX file built in memory. */
async function scorerFor(bytes: Uint8Array, task: 'binary_classification' | 'regression' = 'binary_classification'): Promise<OnnxScorer> {
  const { session, signature } = await loadOnnx(bytes);
  return (rows, rowCount, width, classes) => scoreOnnxDetailed(session, signature, rows, rowCount, width, task, classes);
}

describe('imported ONNX models', () => {
  const table = parseCsv(makeCreditDataset(600, 3));
  const spec = creditSpec({ validation: {} });
  const onnx = { uri: 's3://models/credit/imports/x.onnx', sha256: 'a'.repeat(64) };

  it('takes the spec\'s numeric features in order, and refuses a categorical one naming it', () => {
    expect(importedFeatureNames(spec)).toEqual(FEATURES);
    const withRegion = creditSpec({ validation: {}, features: [...spec.features, { name: 'region', type: 'categorical' }] });
    const error = thrownBy(() => importedFeatureNames(withRegion), InputValidationError);
    expect(error.message).toMatch(/numeric features only; region is categorical/);
    expect(error.field).toBe('features');
  });

  it('feeds raw values row-major and names a missing one', () => {
    const values: Record<string, number | null>[] = [{ a: 1, b: 2 }, { a: 3, b: null }];
    expect(Array.from(featureMatrix(['b', 'a'], (row, f) => values[row]![f], [0], () => 'row'))).toEqual([2, 1]);
    expect(() => featureMatrix(['a', 'b'], (row, f) => values[row]![f], [1], (row) => `instance ${row + 1}`)).toThrow(/feature "b" is missing or not a number in instance 2/);
  });

  it('describes and evaluates an imported model like the built-in model it was exported from (to float32 precision)', async () => {
    // A built-in logistic regression with no scaling, exported as ONNX: the two must score alike.
    const rawSpec = creditSpec({ validation: {}, features: FEATURES.map((name) => ({ name, type: 'numeric', scale: 'none' })) });
    const { artifact } = trainModel(table, rawSpec);
    if (artifact.estimator.kind !== 'logistic') throw new Error('expected a logistic estimator');
    const bytes = logisticOnnx(artifact.estimator.model.coef[0]!, artifact.estimator.model.intercept[0]!);
    const scorer = await scorerFor(bytes);

    // Evaluate loads the ONNX file by its recorded sha256, as in production.
    const objects = new MemoryObjects();
    const stored = objects.store('s3://models/credit/imports/exported.onnx', bytes);
    const { manifest, text } = await describeImport(table, rawSpec, stored, scorer);
    const imported = await evaluateInMemory(table, rawSpec, text, { objects });
    const builtIn = await evaluateInMemory(table, rawSpec, trainModel(table, rawSpec).artifactText);

    expect(ImportedArtifactSchema.parse(JSON.parse(text))).toEqual(manifest);
    expect(parseModelFile(text)).toEqual({ kind: 'imported', manifest });
    expect(manifest).toMatchObject({ features: FEATURES, classes: ['0', '1'], scale: 'probability', onnx: stored });
    // float32 in the runtime: the same metrics to about single precision.
    for (const name of ['accuracy', 'rocAuc', 'logLoss'] as const) expect(imported.metrics[name]).toBeCloseTo(builtIn.metrics[name]!, 4);
    expect(imported.metrics.rows).toBe(builtIn.metrics.rows);
  });

  it('reads a logit output through a sigmoid when the model gives logits', async () => {
    const x = fromRows(table.rows.map((row) => FEATURES.map((f) => Number(row[table.header.indexOf(f)]))));
    const y = Float64Array.from(table.rows, (row) => Number(row[table.header.indexOf('defaulted')]));
    const { model } = fitLogistic(x, y, 2, { C: 1, maxIterations: 300, tolerance: 1e-8 });
    const probabilities = await describeImport(table, spec, onnx, await scorerFor(logisticOnnx(model.coef[0]!, model.intercept[0]!)));
    const logits = await describeImport(table, spec, onnx, await scorerFor(logisticOnnx(model.coef[0]!, model.intercept[0]!, { output: 'logit' })));
    expect(probabilities.manifest.scale).toBe('probability');
    expect(logits.manifest.scale).toBe('logit');
    const objects = new MemoryObjects();
    const evaluated = async (output: 'probability' | 'logit') => {
      const stored = objects.store(`s3://models/credit/imports/${output}.onnx`, logisticOnnx(model.coef[0]!, model.intercept[0]!, output === 'logit' ? { output: 'logit' } : {}));
      return evaluateInMemory(table, spec, JSON.stringify({ ...(output === 'logit' ? logits : probabilities).manifest, onnx: stored }), { objects });
    };
    const a = await evaluated('probability');
    const b = await evaluated('logit');
    expect(b.metrics.rocAuc).toBeCloseTo(a.metrics.rocAuc!, 6);
  });
});

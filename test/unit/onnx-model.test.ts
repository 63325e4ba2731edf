import { afterAll, describe, expect, it } from 'vitest';
import type { InferenceSession } from 'onnxruntime-node';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { checkInputs, loadOnnx, scoreOnnx, scoreOnnxDetailed, type OnnxSignature } from '../../lambdas/core/serving/onnx-model.js';
import { createRng } from '../../lambdas/core/random.js';
import { buildOnnx, ElemType, linearOnnx, logisticOnnx, sklearnStyleOnnx, softmaxOnnx } from '../fixtures/onnx-builder.js';
import { rejectedWith } from './helpers.js';

const sessions: InferenceSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

async function load(bytes: Uint8Array) {
  const loaded = await loadOnnx(bytes);
  sessions.push(loaded.session);
  return loaded;
}

const rejection = (promise: Promise<unknown>) => rejectedWith(promise, InputValidationError);

/** `n` rows of `width` features in [-3, 3], row-major, from a fixed seed. */
function randomRows(n: number, width: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * width }, () => (rng() - 0.5) * 6);
}

const f32 = (values: number[]) => values.map(Math.fround);
const dot = (w: number[], rows: Float32Array, r: number) => w.reduce((sum, wj, j) => sum + wj * rows[r * w.length + j]!, 0);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

const W = f32([0.8, -1.3, 0.45, 2.1, -0.05]);
const B = Math.fround(-0.3);

describe('scoring a logistic model', () => {
  it('matches the closed form 1/(1+exp(-(w·x+b))) within 1e-6 for every row', async () => {
    const { session, signature } = await load(logisticOnnx(W, B, { inputName: 'features' }));
    expect(signature).toEqual({ inputName: 'features', inputWidth: 5, outputs: [{ name: 'probabilities', kind: 'probabilities' }] });
    const rows = randomRows(300, 5, 7);
    const result = await scoreOnnxDetailed(session, signature, rows, 300, 5, 'binary_classification', 2);
    expect(result.output).toBe('probabilities');
    expect(result.scale).toBe('probability');
    expect(result.scores).toHaveLength(300);
    let spread = 0;
    result.scores.forEach((score, r) => {
      const p = sigmoid(dot(W, rows, r) + B);
      expect(score).toHaveLength(2);
      expect(Math.abs(score[1]! - p)).toBeLessThan(1e-6);
      expect(Math.abs(score[0]! - (1 - p))).toBeLessThan(1e-6);
      spread = Math.max(spread, Math.abs(p - 0.5));
    });
    expect(spread).toBeGreaterThan(0.4); // the rows reach both tails, so a constant answer would fail
  });

  it('turns a raw logit column into [P0, P1] with a sigmoid', async () => {
    const { session, signature } = await load(logisticOnnx(W, B, { output: 'logit' }));
    expect(signature.outputs).toEqual([{ name: 'logit', kind: 'value' }]);
    const rows = randomRows(200, 5, 11);
    const result = await scoreOnnxDetailed(session, signature, rows, 200, 5, 'binary_classification', 2);
    expect(result.scale).toBe('logit');
    result.scores.forEach((score, r) => {
      const p = sigmoid(dot(W, rows, r) + B);
      expect(Math.abs(score[1]! - p)).toBeLessThan(1e-6);
      expect(Math.abs(score[0]! - (1 - p))).toBeLessThan(1e-6);
    });
  });

  it('reads a lone logit in [0, 1] as a logit when the scale recorded at evaluation is passed back', async () => {
    const { session, signature } = await load(logisticOnnx([1, 0, 0, 0, 0], 0, { output: 'logit' }));
    const row = Float32Array.from([0.5, 0, 0, 0, 0]); // logit 0.5: within [0, 1], so detection alone would misread it
    const pinned = await scoreOnnx(session, signature, row, 1, 5, 'binary_classification', 2, { scale: 'logit' });
    expect(pinned[0]![1]).toBeCloseTo(sigmoid(0.5), 6);
    const detected = await scoreOnnxDetailed(session, signature, row, 1, 5, 'binary_classification', 2);
    expect(detected.scale).toBe('probability');
    expect(detected.scores[0]![1]).toBeCloseTo(0.5, 6);
  });

  it('accepts float64 rows and scores them as the same float32 rows', async () => {
    const { session, signature } = await load(logisticOnnx(W, B));
    const rows = randomRows(50, 5, 3);
    const single = await scoreOnnx(session, signature, rows, 50, 5, 'binary_classification', 2);
    const double = await scoreOnnx(session, signature, Float64Array.from(rows), 50, 5, 'binary_classification', 2);
    expect(double).toEqual(single);
  });
});

describe('scoring a linear model', () => {
  it('returns [w·x + b] per row', async () => {
    const w = f32([3.5, -2, 0.25]);
    const b = Math.fround(10);
    const { session, signature } = await load(linearOnnx(w, b));
    expect(signature).toEqual({ inputName: 'input', inputWidth: 3, outputs: [{ name: 'value', kind: 'value' }] });
    const rows = randomRows(120, 3, 5);
    const result = await scoreOnnxDetailed(session, signature, rows, 120, 3, 'regression', 0);
    expect(result.scale).toBeNull();
    result.scores.forEach((score, r) => {
      const expected = dot(w, rows, r) + b;
      expect(score).toHaveLength(1);
      expect(Math.abs(score[0]! - expected)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected)));
    });
  });

  it('rejects a per-class output for regression, naming the width', async () => {
    const { session, signature } = await load(softmaxOnnx([[1, 0], [0, 1], [1, 1]], [0, 0, 0]));
    const error = await rejection(scoreOnnx(session, signature, randomRows(4, 2, 1), 4, 2, 'regression', 0));
    expect(error.message).toContain("'probabilities' has 3 values per row");
  });
});

describe('batching', () => {
  it('gives exactly the numbers of one big run, whatever the batch size', async () => {
    const { session, signature } = await load(logisticOnnx(W, B));
    const rows = randomRows(2500, 5, 99);
    const whole = await scoreOnnx(session, signature, rows, 2500, 5, 'binary_classification', 2, { batchSize: 2500 });
    expect(whole).toHaveLength(2500);
    for (const batchSize of [1, 7, 1000]) {
      expect(await scoreOnnx(session, signature, rows, 2500, 5, 'binary_classification', 2, { batchSize })).toEqual(whole);
    }
    expect(await scoreOnnx(session, signature, rows, 2500, 5, 'binary_classification', 2)).toEqual(whole);
  });

  it('detects a logit scale over all batches, not batch by batch', async () => {
    const { session, signature } = await load(logisticOnnx([1, 0, 0, 0, 0], 0, { output: 'logit' }));
    // The first batch's logits all lie in [0, 1]; only the second batch shows they are logits.
    const rows = Float32Array.from([0.2, 0, 0, 0, 0, 0.7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    const result = await scoreOnnxDetailed(session, signature, rows, 3, 5, 'binary_classification', 2, { batchSize: 2 });
    expect(result.scale).toBe('logit');
    expect(result.scores.map((s) => s[1])).toEqual([sigmoid(0.2), sigmoid(0.7), sigmoid(4)].map((p) => expect.closeTo(p, 6)));
  });

  it('pads the last batch of a model with a fixed batch dimension and drops the padding', async () => {
    const w = f32([0.5, -0.25]);
    const bytes = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: [4, 2] }],
      outputs: [{ name: 'value', elemType: ElemType.FLOAT, shape: [4, 1] }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
        { op: 'Add', inputs: ['xw', 'B'], outputs: ['value'] },
      ],
      initializers: [
        { name: 'W', dims: [2, 1], values: w },
        { name: 'B', dims: [1], values: [1] },
      ],
    });
    const { session, signature } = await load(bytes);
    const rows = randomRows(10, 2, 4);
    const scores = await scoreOnnx(session, signature, rows, 10, 2, 'regression', 0);
    expect(scores).toHaveLength(10);
    scores.forEach((score, r) => expect(score[0]).toBeCloseTo(dot(w, rows, r) + 1, 5));
  });
});

describe('models with several outputs or classes', () => {
  it('reads the probabilities of a scikit-learn style model (output_label + output_probability), ignoring the label', async () => {
    const { session, signature } = await load(sklearnStyleOnnx(W, B));
    expect(signature.outputs).toEqual([
      { name: 'output_label', kind: 'label' },
      { name: 'output_probability', kind: 'probabilities' },
    ]);
    const rows = randomRows(100, 5, 21);
    const result = await scoreOnnxDetailed(session, signature, rows, 100, 5, 'binary_classification', 2);
    expect(result.output).toBe('output_probability');
    result.scores.forEach((score, r) => expect(Math.abs(score[1]! - sigmoid(dot(W, rows, r) + B))).toBeLessThan(1e-6));
  });

  it('prefers a probabilities tensor to a logit column when a model has both', async () => {
    const bytes = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['N', 2] }],
      outputs: [
        { name: 'logit', elemType: ElemType.FLOAT, shape: ['N', 1] },
        { name: 'probs', elemType: ElemType.FLOAT, shape: ['N', 2] },
      ],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['logit'] },
        { op: 'Sigmoid', inputs: ['logit'], outputs: ['p1'] },
        { op: 'Sub', inputs: ['ONE', 'p1'], outputs: ['p0'] },
        { op: 'Concat', inputs: ['p0', 'p1'], outputs: ['probs'], attributes: { axis: 1 } },
      ],
      initializers: [
        { name: 'W', dims: [2, 1], values: [1, -1] },
        { name: 'ONE', dims: [1], values: [1] },
      ],
    });
    const { session, signature } = await load(bytes);
    const result = await scoreOnnxDetailed(session, signature, Float32Array.from([3, 1]), 1, 2, 'binary_classification', 2);
    expect(result.output).toBe('probs');
    expect(result.scores[0]![1]).toBeCloseTo(sigmoid(2), 6);
  });

  it('reads multiclass probabilities as they are and multiclass logits through a softmax', async () => {
    const weights = [f32([1, 0]), f32([0, 1]), f32([-1, -1])];
    const bias = f32([0.1, -0.2, 0.3]);
    const rows = randomRows(40, 2, 8);
    const expected = Array.from({ length: 40 }, (_, r) => {
      const z = weights.map((w, k) => dot(w, rows, r) + bias[k]!);
      const e = z.map(Math.exp);
      const total = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / total);
    });
    for (const output of ['probabilities', 'logits'] as const) {
      const { session, signature } = await load(softmaxOnnx(weights, bias, { output }));
      const result = await scoreOnnxDetailed(session, signature, rows, 40, 2, 'multiclass_classification', 3);
      expect(result.scale).toBe(output === 'logits' ? 'logit' : 'probability');
      result.scores.forEach((score, r) => {
        expect(score).toHaveLength(3);
        score.forEach((p, k) => expect(Math.abs(p - expected[r]![k]!)).toBeLessThan(1e-6));
      });
    }
  });

  it('reads per-class scores in [0, 1] that do not sum to 1 as logits', async () => {
    const bias = f32([0.2, 0.3, 0.1]);
    const { session, signature } = await load(softmaxOnnx([[0], [0], [0]], bias, { output: 'logits' }));
    const result = await scoreOnnxDetailed(session, signature, Float32Array.from([1, 2]), 2, 1, 'multiclass_classification', 3);
    expect(result.scale).toBe('logit');
    const e = bias.map(Math.exp);
    const total = e.reduce((a, b) => a + b, 0);
    for (const score of result.scores) score.forEach((p, k) => expect(p).toBeCloseTo(e[k]! / total, 6));
  });

  it('prefers the per-class output named for probabilities when a model has logits first', async () => {
    const bytes = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['N', 3] }],
      outputs: [
        { name: 'logits', elemType: ElemType.FLOAT, shape: ['N', 3] },
        { name: 'probabilities', elemType: ElemType.FLOAT, shape: ['N', 3] },
      ],
      nodes: [
        { op: 'Identity', inputs: ['x'], outputs: ['logits'] },
        { op: 'Softmax', inputs: ['x'], outputs: ['probabilities'], attributes: { axis: 1 } },
      ],
    });
    const { session, signature } = await load(bytes);
    // Logits that look like probabilities: read as they are, the answer would be [0.2, 0.3, 0.5].
    const result = await scoreOnnxDetailed(session, signature, Float32Array.from([0.2, 0.3, 0.5]), 1, 3, 'multiclass_classification', 3);
    expect(result.output).toBe('probabilities');
    const e = [0.2, 0.3, 0.5].map(Math.exp);
    const total = e.reduce((a, b) => a + b, 0);
    result.scores[0]!.forEach((p, k) => expect(p).toBeCloseTo(e[k]! / total, 6));
  });

  it('rejects an output whose class count differs from the dataset, naming both', async () => {
    const { session, signature } = await load(softmaxOnnx([[1, 0], [0, 1], [1, 1]], [0, 0, 0]));
    const error = await rejection(scoreOnnx(session, signature, randomRows(3, 2, 2), 3, 2, 'multiclass_classification', 4));
    expect(error.message).toBe("the ONNX model's output 'probabilities' has 3 columns per row, the dataset has 4 classes");
  });

  it('rejects a single logit column for a multiclass task', async () => {
    const { session, signature } = await load(logisticOnnx(W, B, { output: 'logit' }));
    const error = await rejection(scoreOnnx(session, signature, randomRows(3, 5, 2), 3, 5, 'multiclass_classification', 3));
    expect(error.message).toContain("its outputs are 'logit' (float32 [N, 1])");
  });

  it('names the row when the model returns NaN', async () => {
    const { session, signature } = await load(logisticOnnx(W, B));
    const rows = randomRows(5, 5, 1);
    rows[3 * 5 + 2] = Number.NaN;
    const error = await rejection(scoreOnnx(session, signature, rows, 5, 5, 'binary_classification', 2));
    expect(error.message).toContain('returned NaN');
    expect(error.message).toContain('for row 4');
  });
});

describe('loadOnnx rejects what it cannot score', () => {
  it('rejects random bytes as not a loadable ONNX model, with the runtime message', async () => {
    const rng = createRng(42);
    const bytes = Uint8Array.from({ length: 512 }, () => Math.floor(rng() * 256));
    const error = await rejection(loadOnnx(bytes));
    expect(error.message).toMatch(/^the file is not a loadable ONNX model: \S/);
    expect(error.code).toBe('INVALID_INPUT');
  });

  it('rejects truncated model bytes', async () => {
    const bytes = logisticOnnx(W, B);
    const error = await rejection(loadOnnx(bytes.subarray(0, Math.floor(bytes.length * 0.6))));
    expect(error.message).toMatch(/^the file is not a loadable ONNX model: \S/);
  });

  it('rejects an empty file', async () => {
    const error = await rejection(loadOnnx(new Uint8Array(0)));
    expect(error.message).toBe('the file is not a loadable ONNX model: the file is empty');
  });

  it('rejects a model with two inputs, naming them', async () => {
    const bytes = buildOnnx({
      inputs: [
        { name: 'age', elemType: ElemType.FLOAT, shape: ['N', 1] },
        { name: 'city', elemType: ElemType.STRING, shape: ['N', 1] },
      ],
      outputs: [{ name: 'out', elemType: ElemType.FLOAT, shape: ['N', 1] }],
      nodes: [{ op: 'Identity', inputs: ['age'], outputs: ['out'] }],
    });
    const error = await rejection(loadOnnx(bytes));
    expect(error.message).toBe(
      "the ONNX model must take exactly one float tensor input of shape [N, F] (rows × features); it has 2: 'age' (float32 [N, 1]), 'city' (string [N, 1])",
    );
  });

  it('rejects an integer input and a rank-1 input', async () => {
    const intInput = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.INT64, shape: ['N', 3] }],
      outputs: [{ name: 'out', elemType: ElemType.INT64, shape: ['N', 3] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['out'] }],
    });
    expect((await rejection(loadOnnx(intInput))).message).toContain("it has 'x' (int64 [N, 3])");
    const vector = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['N'] }],
      outputs: [{ name: 'out', elemType: ElemType.FLOAT, shape: ['N'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['out'] }],
    });
    expect((await rejection(loadOnnx(vector))).message).toContain("it has 'x' (float32 [N])");
  });

  it('rejects a scikit-learn model exported with ZipMap, saying how to export it', async () => {
    const error = await rejection(loadOnnx(sklearnStyleOnnx(W, B, { zipmap: true })));
    expect(error.message).toContain("'output_probability' (not a tensor");
    expect(error.message).toContain("options={id(model): {'zipmap': False}}");
  });

  it('reads a dynamic feature dimension as a null width', async () => {
    const bytes = buildOnnx({
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['N', 'F'] }],
      outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: ['N', 'F'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    const { signature } = await load(bytes);
    expect(signature).toEqual({ inputName: 'x', inputWidth: null, outputs: [{ name: 'y', kind: 'probabilities' }] });
  });
});

describe('checkInputs', () => {
  const signature: OnnxSignature = { inputName: 'input', inputWidth: 3, outputs: [{ name: 'probabilities', kind: 'probabilities' }] };
  const features = ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'];

  it('rejects a width mismatch, naming both counts and the features', () => {
    let caught: unknown;
    try {
      checkInputs(signature, 5, features);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputValidationError);
    expect((caught as Error).message).toBe(
      "the ONNX model takes 3 inputs per row, the dataset's features are 5 (age, income, debt_ratio, credit_lines, late_payments)",
    );
  });

  it('accepts a matching width and a dynamic one', () => {
    expect(() => checkInputs(signature, 3, features.slice(0, 3))).not.toThrow();
    expect(() => checkInputs({ ...signature, inputWidth: null }, 5, features)).not.toThrow();
  });

  it('refuses to score rows wider than the model takes', async () => {
    const { session, signature: real } = await load(logisticOnnx(W, B));
    const error = await rejection(scoreOnnx(session, real, randomRows(2, 6, 1), 2, 6, 'binary_classification', 2));
    expect(error.message).toBe('the ONNX model takes 5 inputs per row, the rows given have 6');
  });
});

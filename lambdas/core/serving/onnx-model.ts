/**
 * "Bring your own model": an ONNX model trained elsewhere, scored with onnxruntime-node.
 *
 * The platform feeds a model one float tensor of shape [N, F] (the dataset's features in spec
 * order, after the platform's transforms) and reads back, per row, K class probabilities for
 * classification or one value for regression. The layouts common exporters write are understood:
 *
 * - a per-class tensor float[N, K]: probabilities (rows in [0, 1] summing to 1) or logits (softmax);
 * - binary only: one column float[N, 1] or float[N] holding P(class 1) or a logit (sigmoid);
 * - regression: float[N, 1] or float[N];
 * - skl2onnx classifiers: `output_label` (ignored) + `output_probability` float[N, K], which is what
 *   skl2onnx writes when ZipMap is disabled. With ZipMap (skl2onnx's default) the probabilities are
 *   a sequence of maps, which onnxruntime-node cannot return ("Non tensor type is temporarily not
 *   supported"); such a model is rejected with the export option that fixes it:
 *   `to_onnx(model, X, options={id(model): {'zipmap': False}})`.
 *
 * onnxruntime-node is a native module (about 25 MB for linux/arm64), so it is loaded on first use:
 * importing this file costs nothing to a function that never scores an ONNX model.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { InputValidationError } from '../errors.js';

export type OnnxTask = 'binary_classification' | 'multiclass_classification' | 'regression';

export interface OnnxOutput {
  readonly name: string;
  /**
   * What the output looks like from the model's metadata: `label` for a non-float tensor (class ids
   * or names), `probabilities` for a float tensor with several columns per row (probabilities or
   * logits), `value` for one float per row (a regression value, a probability or a logit).
   */
  readonly kind: 'label' | 'probabilities' | 'value';
}

export interface OnnxSignature {
  readonly inputName: string;
  /** Features per row; null when the model leaves that dimension dynamic. */
  readonly inputWidth: number | null;
  /** The model's tensor outputs in model order; non-tensor outputs (sequences, maps) are left out. */
  readonly outputs: readonly OnnxOutput[];
}

/** How an output's numbers relate to probabilities: as they are, or logits to squash (sigmoid / softmax). */
export type OnnxScale = 'probability' | 'logit';

export interface LoadOnnxOptions {
  /** onnxruntime intra-op threads. @default 1: deterministic and right for Lambda's fractional vCPUs. */
  readonly threads?: number;
}

export interface ScoreOnnxOptions {
  /** Rows per run() call, bounding memory. A model with a fixed batch dimension uses that instead. @default 1000 */
  readonly batchSize?: number;
  /**
   * Classification only: how to read the output. When absent it is detected over all the rows of
   * this call: probabilities when every value is in [0, 1] (and, for a per-class tensor, every row
   * sums to 1), logits otherwise. Evaluate should record the detected scale (`scoreOnnxDetailed`)
   * and serving pass it back, so that a single request is read the way the test split was.
   */
  readonly scale?: OnnxScale;
}

export interface OnnxScores {
  /** Per row: K probabilities (binary: [P0, P1]) or [value]. */
  readonly scores: number[][];
  /** The output the scores were read from. */
  readonly output: string;
  /** Classification: how that output was read; null for regression. */
  readonly scale: OnnxScale | null;
}

export const DEFAULT_BATCH_SIZE = 1000;

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;
/** The runtime, imported once on first use. */
function ort(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

const FLOAT_TYPES: readonly string[] = ['float32', 'float64'];

type Metadata = InferenceSession.ValueMetadata;

function describeValue(meta: Metadata): string {
  if (!meta.isTensor) return `'${meta.name}' (not a tensor: a sequence or map)`;
  const shape = meta.shape.length === 0 ? 'unknown shape' : `[${meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d !== '' ? d : '?')).join(', ')}]`;
  return `'${meta.name}' (${meta.type} ${shape})`;
}

/** A fixed dimension's size, or null when symbolic / unknown. */
function fixedDim(dim: number | string | undefined): number | null {
  return typeof dim === 'number' && Number.isInteger(dim) && dim > 0 ? dim : null;
}

function outputKind(meta: Metadata & { isTensor: true }): OnnxOutput['kind'] {
  if (!FLOAT_TYPES.includes(meta.type)) return 'label';
  if (meta.shape.length === 2) return fixedDim(meta.shape[1]) === 1 ? 'value' : 'probabilities';
  // Rank 1, or no shape recorded: one number per row as far as the metadata tells.
  return 'value';
}

const ZIPMAP_ADVICE =
  "it looks like a scikit-learn classifier exported with ZipMap, whose probabilities onnxruntime-node cannot read: export it again with options={id(model): {'zipmap': False}}";

/**
 * Loads a model from its bytes and reads its signature. Throws an InputValidationError when the
 * bytes are not a loadable ONNX model, when the model does not take exactly one float tensor of
 * shape [N, F], or when it has no float tensor output to read scores from.
 */
export async function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): Promise<{ session: InferenceSession; signature: OnnxSignature }> {
  const { InferenceSession } = await ort();
  let session: InferenceSession;
  try {
    if (bytes.byteLength === 0) throw new Error('the file is empty');
    session = await InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      executionMode: 'sequential',
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new InputValidationError(`the file is not a loadable ONNX model: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    return { session, signature: readSignature(session) };
  } catch (error) {
    await session.release().catch(() => undefined);
    throw error;
  }
}

function readSignature(session: InferenceSession): OnnxSignature {
  const inputs = session.inputMetadata;
  const input = inputs[0];
  const wellFormed = inputs.length === 1 && input !== undefined && input.isTensor && FLOAT_TYPES.includes(input.type) && input.shape.length === 2;
  if (!wellFormed) {
    const has = inputs.length === 0 ? 'none' : `${inputs.length === 1 ? '' : `${inputs.length}: `}${inputs.map(describeValue).join(', ')}`;
    throw new InputValidationError(`the ONNX model must take exactly one float tensor input of shape [N, F] (rows × features); it has ${has}`);
  }
  const outputs: OnnxOutput[] = [];
  for (const meta of session.outputMetadata) {
    if (meta.isTensor) outputs.push({ name: meta.name, kind: outputKind(meta) });
  }
  if (!session.outputMetadata.some((meta) => meta.isTensor && FLOAT_TYPES.includes(meta.type))) {
    const nonTensor = session.outputMetadata.some((meta) => !meta.isTensor);
    const has = session.outputMetadata.map(describeValue).join(', ') || 'none';
    throw new InputValidationError(
      `the ONNX model has no float tensor output to read probabilities or values from; its outputs are ${has}${nonTensor ? `: ${ZIPMAP_ADVICE}` : ''}`,
    );
  }
  return { inputName: input.name, inputWidth: fixedDim(input.shape[1]), outputs };
}

/** Throws an InputValidationError when the model's row width is fixed and differs from the dataset's feature count. */
export function checkInputs(signature: OnnxSignature, featureCount: number, featureNames: readonly string[]): void {
  if (signature.inputWidth === null || signature.inputWidth === featureCount) return;
  const shown = featureNames.slice(0, 10).join(', ') + (featureNames.length > 10 ? `, … (${featureNames.length - 10} more)` : '');
  throw new InputValidationError(
    `the ONNX model takes ${signature.inputWidth} input${signature.inputWidth === 1 ? '' : 's'} per row, the dataset's features are ${featureCount}${shown ? ` (${shown})` : ''}`,
    { field: 'features' },
  );
}

/** Scores `rowCount` rows of `width` features (row-major in `rows`); see scoreOnnxDetailed. */
export async function scoreOnnx(
  session: InferenceSession,
  signature: OnnxSignature,
  rows: Float32Array | Float64Array,
  rowCount: number,
  width: number,
  task: OnnxTask,
  classes: number,
  options: ScoreOnnxOptions = {},
): Promise<number[][]> {
  return (await scoreOnnxDetailed(session, signature, rows, rowCount, width, task, classes, options)).scores;
}

/**
 * Which output to read for the task, from the metadata alone, so that only it is computed and
 * fetched. Preference: a per-class tensor (a name mentioning "prob" first), then, for binary
 * classification, a single column; for regression, a single column, then anything float.
 */
function pickOutput(session: InferenceSession, signature: OnnxSignature, task: OnnxTask): string {
  const float = new Set(session.outputMetadata.filter((m) => m.isTensor && FLOAT_TYPES.includes(m.type)).map((m) => m.name));
  const candidates = signature.outputs.filter((o) => float.has(o.name));
  const isProb = (o: OnnxOutput) => /prob/i.test(o.name);
  const order: ((o: OnnxOutput) => boolean)[] =
    task === 'regression'
      ? [(o) => o.kind === 'value', () => true]
      : [
          (o) => o.kind === 'probabilities' && isProb(o),
          (o) => o.kind === 'probabilities',
          ...(task === 'binary_classification' ? [(o: OnnxOutput) => o.kind === 'value' && isProb(o), (o: OnnxOutput) => o.kind === 'value'] : []),
        ];
  for (const accept of order) {
    const found = candidates.find(accept);
    if (found) return found.name;
  }
  const has = session.outputMetadata.map(describeValue).join(', ');
  const nonTensor = session.outputMetadata.some((m) => !m.isTensor);
  throw new InputValidationError(
    `the ONNX model has no output a ${task.replace('_', ' ')} can be read from (one column of probabilities per class${task === 'binary_classification' ? ', or one probability or logit column' : ''}); its outputs are ${has}${nonTensor ? `: ${ZIPMAP_ADVICE}` : ''}`,
  );
}

/**
 * Scores rows in batches and returns, per row, K probabilities for classification (binary:
 * [P0, P1], P1 the probability of class index 1) or [value] for regression, with the output read
 * and how it was read. Deterministic: batching does not change any number, and scale detection
 * looks at every row of the call before any is converted.
 */
export async function scoreOnnxDetailed(
  session: InferenceSession,
  signature: OnnxSignature,
  rows: Float32Array | Float64Array,
  rowCount: number,
  width: number,
  task: OnnxTask,
  classes: number,
  options: ScoreOnnxOptions = {},
): Promise<OnnxScores> {
  if (!Number.isInteger(rowCount) || rowCount < 0) throw new InputValidationError(`row count must be a whole number ≥ 0, got ${rowCount}`);
  if (!Number.isInteger(width) || width < 1) throw new InputValidationError(`row width must be a whole number ≥ 1, got ${width}`);
  if (signature.inputWidth !== null && signature.inputWidth !== width) {
    throw new InputValidationError(`the ONNX model takes ${signature.inputWidth} inputs per row, the rows given have ${width}`);
  }
  if (rows.length < rowCount * width) throw new InputValidationError(`${rowCount} rows of ${width} features need ${rowCount * width} numbers, got ${rows.length}`);
  if (task !== 'regression' && (!Number.isInteger(classes) || classes < 2)) throw new InputValidationError(`classification needs at least 2 classes, got ${classes}`);
  if (task === 'binary_classification' && classes !== 2) throw new InputValidationError(`binary classification has 2 classes, got ${classes}`);

  const output = pickOutput(session, signature, task);
  const inputMeta = session.inputMetadata.find((m) => m.name === signature.inputName);
  const inputType = inputMeta?.isTensor && inputMeta.type === 'float64' ? 'float64' : 'float32';
  const fixedBatch = inputMeta?.isTensor ? fixedDim(inputMeta.shape[0]) : null;
  const batchSize = fixedBatch ?? Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const { Tensor } = await ort();

  // Raw outputs first, as columns per row (1 or K); conversion waits until scale is known.
  const raw: Float64Array[] = [];
  let columns: number | null = null;
  for (let start = 0; start < rowCount; start += batchSize) {
    const count = Math.min(batchSize, rowCount - start);
    const fed = fixedBatch ?? count; // a fixed batch dimension: pad the last batch with zeros
    const data = inputType === 'float32' ? new Float32Array(fed * width) : new Float64Array(fed * width);
    data.set(rows.subarray(start * width, (start + count) * width));
    let result: InferenceSession.ReturnType;
    try {
      result = await session.run({ [signature.inputName]: new Tensor(inputType, data, [fed, width]) }, [output]);
    } catch (error) {
      throw new InputValidationError(
        `the ONNX model failed on rows ${start + 1}–${start + count}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const tensor = result[output] as Tensor | undefined;
    if (!tensor) throw new InputValidationError(`the ONNX model returned no '${output}' output`);
    const cols = batchColumns(tensor, fed, output);
    if (columns !== null && cols !== columns) throw new InputValidationError(`the ONNX model's output '${output}' changed from ${columns} to ${cols} columns between batches`);
    columns = cols;
    const values = tensor.data as Float32Array | Float64Array;
    for (let i = 0; i < count * cols; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        throw new InputValidationError(`the ONNX model returned ${v} in '${output}' for row ${start + Math.floor(i / cols) + 1}; check that the rows have no missing values the model cannot handle`);
      }
    }
    raw.push(Float64Array.from(values.subarray(0, count * cols)));
  }
  const cols = columns ?? (task === 'regression' || task === 'binary_classification' ? 1 : classes);

  if (task === 'regression') {
    if (cols !== 1) throw new InputValidationError(`the ONNX model's output '${output}' has ${cols} values per row; a regression model must produce one`);
    return { scores: raw.flatMap((batch) => Array.from(batch, (v) => [v])), output, scale: null };
  }
  if (cols !== classes && !(task === 'binary_classification' && cols === 1)) {
    throw new InputValidationError(`the ONNX model's output '${output}' has ${cols} column${cols === 1 ? '' : 's'} per row, the dataset has ${classes} classes`);
  }
  const scale = options.scale ?? detectScale(raw, cols);
  const scores: number[][] = [];
  for (const batch of raw) {
    for (let r = 0; r * cols < batch.length; r++) {
      const row = batch.subarray(r * cols, (r + 1) * cols);
      if (cols === 1) {
        const p = scale === 'logit' ? sigmoid(row[0]!) : row[0]!;
        scores.push([1 - p, p]);
      } else {
        scores.push(scale === 'logit' ? softmax(row) : Array.from(row));
      }
    }
  }
  return { scores, output, scale };
}

/** Number of columns per row of a batch's output: [N] and [N, 1] are 1, [N, K] is K. */
function batchColumns(tensor: Tensor, rows: number, name: string): number {
  const dims = tensor.dims;
  if (!FLOAT_TYPES.includes(tensor.type)) throw new InputValidationError(`the ONNX model's output '${name}' is ${tensor.type}, not float`);
  const ok = (dims.length === 1 && dims[0] === rows) || (dims.length === 2 && dims[0] === rows);
  if (!ok) throw new InputValidationError(`the ONNX model's output '${name}' has shape [${dims.join(', ')}] for ${rows} rows; expected [${rows}] or [${rows}, K]`);
  return dims.length === 1 ? 1 : dims[1]!;
}

const PROBABILITY_SUM_TOLERANCE = 1e-3;

/** Probabilities when every value lies in [0, 1] and, for several columns, every row sums to 1; logits otherwise. */
function detectScale(raw: readonly Float64Array[], cols: number): OnnxScale {
  for (const batch of raw) {
    for (let r = 0; r * cols < batch.length; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const v = batch[r * cols + c]!;
        if (v < 0 || v > 1) return 'logit';
        sum += v;
      }
      if (cols > 1 && Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) return 'logit';
    }
  }
  return 'probability';
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function softmax(logits: Float64Array): number[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}
